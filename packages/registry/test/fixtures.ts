import { define, definePlugin, specSchema, z, type Registry, type Spec } from '../src/index.js';

export class Sgd {
  constructor(
    readonly lr: number,
    readonly momentum: number,
  ) {}
}

export const sgd = define(
  'optimizer',
  'sgd',
  z.object({ lr: z.number().positive().default(0.01), momentum: z.number().min(0).max(1).default(0) }),
  (config) => new Sgd(config.lr, config.momentum),
  'stochastic gradient descent',
);

export const adam = define(
  'optimizer',
  'adam',
  z.strictObject({
    lr: z.number().positive().default(0.001),
    betas: z.tuple([z.number().min(0).lt(1), z.number().min(0).lt(1)]).default([0.9, 0.999]),
    eps: z.number().positive().default(1e-8),
  }),
  (config) => ({ ...config }),
);

export const relu = define('activation', 'relu', z.object({}), () => (x: number) => Math.max(0, x));

export const dense = define(
  'layer',
  'dense',
  z.object({
    units: z.number().int().positive(),
    activation: z.enum(['relu', 'tanh', 'linear']).default('linear'),
    useBias: z.boolean().default(true),
  }),
  (config) => ({ type: 'dense', ...config }),
);

/** A container whose config nests other specs, built through the registry it is given. */
export const sequential = define(
  'layer',
  'sequential',
  z.object({ layers: z.array(specSchema).default([]) }),
  (config, registry: Registry) => ({ type: 'sequential', layers: config.layers.map((s) => registry.fromJSON(s)) }),
);

export const mse = define('loss', 'mse', z.object({ reduction: z.enum(['mean', 'sum']).default('mean') }), (c) => ({ ...c }));

/** TF.js-style: describes itself with static-string kind/name and getConfig(). */
export class Dropout {
  readonly kind = 'regularizer';
  readonly name = 'dropout';
  constructor(public rate: number) {}
  getConfig(): Spec['config'] {
    return { rate: this.rate };
  }
}

export const dropout = define('regularizer', 'dropout', z.object({ rate: z.number().min(0).lt(1).default(0.5) }), (c) => new Dropout(c.rate));

export const optimizers = definePlugin('@test/optimizers', [sgd, adam]);
export const layers = definePlugin('@test/layers', [dense, sequential, relu, mse, dropout]);
