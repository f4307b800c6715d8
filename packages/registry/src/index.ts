/**
 * @minibatch/registry — the typed plugin registry every minibatch package plugs into.
 * No side effects on import: packages export plugins, apps call `createRegistry().use(...)`.
 */
// Re-exported so every plugin package validates with the very same zod instance as the registry.
export { z } from 'zod';
export { RegistryError, locate, formatPath, describeIssues, suggest, type RegistryErrorCode, type ConfigIssue, type JsonPath } from './errors.js';
export { parseJson, checkNesting, JSON_LIMITS, type JsonLimits } from './json.js';
export {
  createRegistry,
  createAt,
  define,
  definePlugin,
  parseConfig,
  specSchema,
  type Kind,
  type Plugin,
  type PluginEntry,
  type RegisterOptions,
  type Registry,
  type Spec,
} from './registry.js';
