import { z } from 'zod';
import { parseJson } from './json.js';
import { RegistryError, describeIssues, locate, plural, show, suggest, type JsonPath } from './errors.js';

/** The kinds minibatch packages use. Any other string works too; these just autocomplete. */
export type Kind =
  | 'layer' | 'initializer' | 'activation' | 'loss' | 'optimizer' | 'schedule'
  | 'regularizer' | 'augmentation' | 'metric' | 'callback' | 'format'
  | (string & {});

/** A plain-JSON description of an instance: what `serialize` returns and `fromJSON` reads. */
export interface Spec {
  kind: Kind;
  name: string;
  config: Record<string, unknown>;
}

/** Zod schema of a {@link Spec}, for plugin configs that nest other plugins (a layer list, an optimizer's schedule). */
export const specSchema = z.strictObject({
  kind: z.string().min(1),
  name: z.string().min(1),
  config: z.record(z.string(), z.unknown()).default({}),
});

/** One registrable thing: a kind, a name, a config schema and a factory. Build it with {@link define}. */
export interface PluginEntry<Config = unknown, Instance = unknown> {
  readonly kind: Kind;
  readonly name: string;
  readonly schema: z.ZodType<Config>;
  /**
   * Method syntax on purpose: it makes the parameter bivariant, so an entry whose config is
   * `{ lr: number }` still fits in a `PluginEntry[]`. The registry only ever passes it the
   * output of its own schema, so this is sound in practice.
   */
  create(config: Config, registry: Registry): Instance;
  readonly description?: string;
}

/** What a package exports: a name (shown in duplicate errors) and its entries. */
export interface Plugin {
  readonly name: string;
  readonly entries: readonly PluginEntry[];
}

export interface RegisterOptions {
  /** Replace an existing entry of the same kind and name instead of throwing. */
  override?: boolean;
}

export interface Registry {
  /** Register every entry of a plugin, all or nothing. Chainable. */
  use(plugin: Plugin, options?: RegisterOptions): Registry;
  /** Register one entry outside any plugin. Chainable. */
  register(entry: PluginEntry, options?: RegisterOptions): Registry;
  /** The entry for kind and name; throws a did-you-mean RegistryError when unknown. */
  get(kind: Kind, name: string): PluginEntry;
  has(kind: Kind, name: string): boolean;
  /** Sorted names of one kind, or every entry as 'kind/name' when no kind is given. */
  list(kind?: Kind): string[];
  /** Sorted kinds that have at least one entry. */
  kinds(): string[];
  /**
   * Validate `config` (default `{}`) with the entry's schema, build the instance and remember
   * its spec. `T` is an unchecked assertion about what the entry creates.
   */
  create<T = unknown>(kind: Kind, name: string, config?: unknown): T;
  /** `create` from a spec object (or its JSON text), after checking the spec's shape. */
  fromJSON<T = unknown>(spec: unknown): T;
  /** The plain-JSON spec of an instance made by `create`, or of any object with `getConfig()`, `kind` and `name`. */
  serialize(instance: unknown): Spec;
}

/**
 * Declare a plugin entry; the config type of `create` is inferred from the schema.
 *
 * @example
 * const sgd = define('optimizer', 'sgd', z.strictObject({ lr: z.number().positive().default(0.01) }),
 *   (config) => ({ lr: config.lr }), 'plain stochastic gradient descent');
 * createRegistry().register(sgd).create('optimizer', 'sgd'); // { lr: 0.01 }
 */
export function define<S extends z.ZodType, Instance>(
  kind: Kind,
  name: string,
  schema: S,
  create: (config: z.output<S>, registry: Registry) => Instance,
  description?: string,
): PluginEntry<z.output<S>, Instance> {
  if (!kind || !name) throw new TypeError(`define(): kind and name must be non-empty strings, got ${show(kind)} and ${show(name)}`);
  // TS can't see that a generic S is a ZodType of its own output; it is, by zod's definition.
  const typed = schema as unknown as z.ZodType<z.output<S>>;
  return description === undefined ? { kind, name, schema: typed, create } : { kind, name, schema: typed, create, description };
}

/**
 * Bundle entries under a plugin name. Nothing is registered until an app calls `use`.
 *
 * @example
 * export const optimizers = definePlugin('@minibatch/optimizers', [sgd, adam]);
 * const registry = createRegistry().use(optimizers);
 */
export function definePlugin(name: string, entries: readonly PluginEntry[]): Plugin {
  return { name, entries: [...entries] };
}

/** Object-like (so a WeakMap can key it) and not an array. */
function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** TF.js-style self-describing instance: its own `getConfig()` and static-string `kind`/`name`. */
interface SelfDescribing {
  kind: string;
  name: string;
  getConfig(): Record<string, unknown>;
}

function isSelfDescribing(value: unknown): value is SelfDescribing {
  if ((typeof value !== 'object' && typeof value !== 'function') || value === null) return false;
  const v = value as Partial<SelfDescribing>;
  return typeof v.getConfig === 'function' && typeof v.kind === 'string' && typeof v.name === 'string';
}

const DIRECT = '(registered directly)';

/**
 * A new, empty registry. Importing a minibatch package registers nothing (that broke
 * tree-shaking in TF.js, tfjs #5182); the app assembles exactly what it uses.
 *
 * @example
 * const registry = createRegistry().use(optimizers);
 * const opt = registry.create('optimizer', 'sgd', { lr: 0.1 });
 * const again = registry.fromJSON(JSON.parse(JSON.stringify(registry.serialize(opt))));
 */
/**
 * Validates `config` with a plugin's schema (defaults filled in), throwing the registry's
 * own 'invalid-config' error that names each bad field. create() uses it; so do classes
 * that can also be constructed directly (`new Dense({ units: 3 })`).
 *
 * @example
 * parseConfig('layer', 'dense', z.strictObject({ units: z.number().int().positive() }), { units: -3 });
 * // RegistryError: invalid config for layer 'dense':\n  - units: expected a number > 0, got -3
 */
export function parseConfig<S extends z.ZodType>(kind: Kind, name: string, schema: S, config: unknown = {}): z.output<S> {
  // reportInput puts the offending value into each issue, so the message can show it.
  const parsed = schema.safeParse(config, { reportInput: true });
  if (parsed.success) return parsed.data;
  const issues = describeIssues(parsed.error.issues, (path) => keysAt(schema, path));
  throw new RegistryError('invalid-config', `invalid config for ${kind} '${name}'`, { cause: parsed.error, issues, subject: `${kind} '${name}'` });
}

/** The keys an object schema at `path` inside `schema` allows (through arrays, optionals, defaults and unions). */
function keysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let nodes: z.ZodType[] = [schema];
  const unwrap = (s: z.ZodType): z.ZodType[] => {
    const def = (s as unknown as { _zod: { def: { type: string; innerType?: z.ZodType; options?: z.ZodType[] } } })._zod.def;
    if (def.innerType !== undefined) return unwrap(def.innerType);
    if (def.type === 'union' && def.options !== undefined) return def.options.flatMap(unwrap);
    return [s];
  };
  for (const key of [...path, null]) {
    nodes = nodes.flatMap(unwrap);
    if (key === null) break;
    nodes = nodes.flatMap((s) => {
      if (s instanceof z.ZodObject && typeof key === 'string' && key in s.shape) return [s.shape[key] as z.ZodType];
      if (s instanceof z.ZodArray && typeof key === 'number') return [s.element as z.ZodType];
      return [];
    });
  }
  return nodes.flatMap((s) => (s instanceof z.ZodObject ? Object.keys(s.shape) : []));
}

/**
 * Creates the instance a spec names, locating any error inside an enclosing document: an
 * unknown name at `path`, a bad config at `path.config` (e.g. `model[3].config.units`).
 *
 * @example
 * createAt(registry, 'layer', 'dense', { unitz: 3 }, ['model', 3]);
 * // RegistryError: invalid config for layer 'dense' at model[3].config:
 * //   - model[3].config.unitz: unknown key 'unitz' (did you mean 'units'?)
 */
export function createAt<T = unknown>(registry: Registry, kind: Kind, name: string, config: unknown, path: JsonPath): T {
  locate(path, () => registry.get(kind, name));
  return locate([...path, 'config'], () => registry.create<T>(kind, name, config));
}

export function createRegistry(): Registry {
  // kind -> name -> entry and the plugin that brought it (for duplicate messages).
  const table = new Map<string, Map<string, { entry: PluginEntry; plugin: string }>>();
  // Specs of the instances this registry made. Weak, so remembering never keeps an instance alive.
  const specs = new WeakMap<object, Spec>();

  function add(entries: readonly PluginEntry[], plugin: string, options: RegisterOptions = {}): void {
    // Check everything first so a failed `use` leaves the registry as it was.
    const seen = new Set<string>();
    for (const { kind, name } of entries) {
      const key = `${kind}\u0000${name}`;
      if (seen.has(key)) throw new RegistryError('duplicate', `duplicate ${kind} '${name}': plugin '${plugin}' lists it twice.`);
      const existing = table.get(kind)?.get(name);
      if (existing && !options.override) {
        throw new RegistryError(
          'duplicate',
          `duplicate ${kind} '${name}': already registered by '${existing.plugin}', registered again by '${plugin}'. ` +
            `Pass { override: true } to replace it, or rename one of them.`,
        );
      }
      seen.add(key);
    }
    for (const entry of entries) {
      if (!table.has(entry.kind)) table.set(entry.kind, new Map());
      table.get(entry.kind)!.set(entry.name, { entry, plugin });
    }
  }

  function get(kind: Kind, name: string): PluginEntry {
    const names = table.get(kind);
    if (!names) {
      const known = [...table.keys()].sort();
      const near = suggest(kind, known);
      throw new RegistryError(
        'unknown-kind',
        `unknown kind '${kind}'${near ? ` — did you mean '${near}'?` : '.'} ` +
          (known.length ? `Known kinds: ${known.join(', ')}.` : 'Nothing is registered yet.') +
          ` If '${kind}' is right, call registry.use() with the plugin that provides it.`,
      );
    }
    const found = names.get(name);
    if (found) return found.entry;
    const known = [...names.keys()].sort();
    const near = suggest(name, known);
    throw new RegistryError(
      'unknown-name',
      `unknown ${kind} '${name}'${near ? ` — did you mean '${near}'?` : '.'} Known ${plural(kind)}: ${known.join(', ')}.`,
    );
  }

  const registry: Registry = {
    use(plugin, options) {
      add(plugin.entries, plugin.name, options);
      return registry;
    },
    register(entry, options) {
      add([entry], DIRECT, options);
      return registry;
    },
    get,
    has: (kind, name) => table.get(kind)?.has(name) ?? false,
    list(kind) {
      if (kind !== undefined) return [...(table.get(kind)?.keys() ?? [])].sort();
      return [...table].flatMap(([k, names]) => [...names.keys()].map((n) => `${k}/${n}`)).sort();
    },
    kinds: () => [...table.keys()].sort(),
    create<T>(kind: Kind, name: string, config: unknown = {}): T {
      const entry = get(kind, name);
      const validated = parseConfig(kind, name, entry.schema, config);
      let instance: unknown;
      try {
        instance = entry.create(validated, registry);
      } catch (error) {
        // Values valid one by one that the plugin refuses together (Nesterov with momentum 0)
        // are a config error too, located like a schema error.
        if (error instanceof RegistryError || !(error instanceof Error)) throw error;
        throw new RegistryError('invalid-config', `invalid config for ${kind} '${name}': ${error.message}`, { cause: error });
      }
      // The spec keeps the validated config (defaults filled in), so a saved run still means
      // the same thing after a default changes. A copy, so later mutation can't rewrite history.
      // A config holding functions can't be cloned (nor be JSON): such an instance is simply
      // not remembered, and serialize() says so, instead of create() failing after the fact.
      if ((typeof instance === 'object' && instance !== null) || typeof instance === 'function') {
        try {
          specs.set(instance, { kind, name, config: structuredClone(validated as Record<string, unknown>) });
        } catch {}
      }
      return instance as T;
    },
    fromJSON<T>(spec: unknown): T {
      if (typeof spec === 'string') spec = parseJson(spec, { source: 'spec' });
      const example = `expected an object like { "kind": "optimizer", "name": "adam", "config": { "lr": 0.001 } }`;
      if (!isRecord(spec)) throw new RegistryError('invalid-spec', `invalid spec: ${example}, got ${show(spec)}`);
      for (const field of ['kind', 'name'] as const) {
        if (typeof spec[field] !== 'string' || spec[field] === '') {
          throw new RegistryError('invalid-spec', `invalid spec: '${field}' must be a non-empty string, got ${show(spec[field])}; ${example}`);
        }
      }
      const { kind, name, config } = spec as { kind: string; name: string; config?: unknown };
      if (config !== undefined && !isRecord(config)) {
        throw new RegistryError('invalid-spec', `invalid spec for ${kind} '${name}': 'config' must be an object (or left out), got ${show(config)}`);
      }
      return registry.create<T>(kind, name, config);
    },
    serialize(instance) {
      // Self-description wins: it reflects the instance as it is now, not as it was created.
      if (isSelfDescribing(instance)) return { kind: instance.kind, name: instance.name, config: structuredClone(instance.getConfig()) };
      const spec = (typeof instance === 'object' || typeof instance === 'function') && instance !== null ? specs.get(instance) : undefined;
      if (!spec) {
        throw new RegistryError(
          'not-serializable',
          `cannot serialize ${show(instance)}: it was not made by this registry's create()/fromJSON(), ` +
            `and it has no getConfig() with string 'kind' and 'name' properties.`,
        );
      }
      return structuredClone(spec);
    },
  };
  return registry;
}
