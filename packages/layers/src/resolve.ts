// Turning names in configs ('heNormal', { name: 'leakyRelu', config: { alpha: 0.2 } }) into
// initializers and activations: through the registry a layer was created by (so plugins can
// add their own), falling back to the built-ins for layers constructed directly.
import { RegistryError, createAt, createRegistry, type JsonPath, type Registry } from '@minibatch/registry';
import { activationEntries, type Activation } from './activations.js';
import { initializerEntries, type Initializer } from './initializers.js';
import { specConfig, specName, type NamedSpec } from './util.js';

let builtins: Registry | null = null;

/** A private registry of the built-in initializers and activations (made on first use). */
function builtinRegistry(): Registry {
  builtins ??= [...initializerEntries, ...activationEntries].reduce((r, entry) => r.register(entry), createRegistry());
  return builtins;
}

/** `path` locates the spec inside the layer's config ('activation', 'kernelInitializer') for messages. */
function resolve<T>(kind: 'initializer' | 'activation', spec: NamedSpec, registry: Registry | undefined, path: JsonPath): T {
  if (typeof spec !== 'string' && spec.kind !== undefined && spec.kind !== kind) {
    throw new RegistryError('invalid-spec', `expected an ${kind} spec, got kind '${spec.kind}' (name '${spec.name}')`, { path: [...path, 'kind'] });
  }
  const name = specName(spec);
  const from = registry !== undefined && registry.has(kind, name) ? registry : builtinRegistry();
  return createAt<T>(from, kind, name, specConfig(spec), path);
}

export function resolveInitializer(spec: NamedSpec, registry?: Registry, path: JsonPath = []): Initializer {
  return resolve<Initializer>('initializer', spec, registry, path);
}

export function resolveActivation(spec: NamedSpec, registry?: Registry, path: JsonPath = []): Activation {
  return resolve<Activation>('activation', spec, registry, path);
}
