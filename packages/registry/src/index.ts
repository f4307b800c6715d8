/**
 * @minibatch/registry — the typed plugin registry every minibatch package plugs into.
 * No side effects on import: packages export plugins, apps call `createRegistry().use(...)`.
 */
// Re-exported so every plugin package validates with the very same zod instance as the registry.
export { z } from 'zod';
export { RegistryError, type RegistryErrorCode } from './errors.js';
export {
  createRegistry,
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
