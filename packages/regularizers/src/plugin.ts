// The plugin object: every layer, penalty and constraint of this package, by registry name.
import { define, definePlugin, type Plugin, type PluginEntry } from '@minibatch/registry';
import { MaxNorm, NonNegative, maxNormSchema, nonNegativeSchema } from './constraints.js';
import { DropConnect, DropConnectConv2d, dropConnectConv2dSchema, dropConnectSchema } from './dropconnect.js';
import { Dropout, SpatialDropout, dropoutSchema } from './dropout.js';
import { FractionalMaxPool2d, fractionalMaxPool2dSchema } from './fractional-pool.js';
import { WeightPenalty, elasticNetSchema, l1Schema, l2Schema } from './penalties.js';
import { StochasticDepth, stochasticDepthSchema } from './stochastic-depth.js';

/** Layers (kind 'layer'). */
export const regularizerLayerEntries: PluginEntry[] = [
  define('layer', 'dropout', dropoutSchema, (c, r) => new Dropout(c, r), 'inverted dropout: x·m/(1 − rate) in training, identity in eval'),
  define('layer', 'spatialDropout', dropoutSchema, (c, r) => new SpatialDropout(c, r), 'drops whole channels of feature maps'),
  define('layer', 'dropConnect', dropConnectSchema, (c, r) => new DropConnect(c, r), 'dense layer that drops individual weights in training'),
  define('layer', 'dropConnectConv2d', dropConnectConv2dSchema, (c, r) => new DropConnectConv2d(c, r), 'conv2d that drops individual kernel weights in training'),
  define('layer', 'stochasticDepth', stochasticDepthSchema, (c, r) => StochasticDepth.fromConfig(r, c), 'residual block whose branch is dropped with probability rate in training'),
  define('layer', 'fractionalMaxPool2d', fractionalMaxPool2dSchema, (c, r) => new FractionalMaxPool2d(c, r), 'max pooling by a non-integer ratio over random regions (Graham 2014)'),
];

/** Penalties and constraints (kind 'regularizer'). */
export const regularizerEntries: PluginEntry[] = [
  define('regularizer', 'l1', l1Schema, (c) => new WeightPenalty('l1', c), 'L1 penalty λ·Σ|w| added to the loss'),
  define('regularizer', 'l2', l2Schema, (c) => new WeightPenalty('l2', c), 'L2 penalty (λ/2)·Σw² added to the loss'),
  define('regularizer', 'elasticNet', elasticNetSchema, (c) => new WeightPenalty('elasticNet', c), 'L1 + L2 penalty added to the loss'),
  define('regularizer', 'maxNorm', maxNormSchema, (c) => new MaxNorm(c), "after each step, rescales each unit's incoming weights to norm ≤ maxValue"),
  define('regularizer', 'nonNegative', nonNegativeSchema, (c) => new NonNegative(c), 'after each step, w ← max(w, 0)'),
];

/**
 * Everything this package provides, for `createRegistry().use(regularizers)`.
 *
 * @example
 * const registry = createRegistry().use(layers).use(regularizers);
 * const model = modelFromConfig(registry, [{ name: 'dense', config: { units: 64, activation: 'relu' } }, { name: 'dropout', config: { rate: 0.5 } }]);
 * const l2 = registry.create('regularizer', 'l2', { lambda: 1e-4 });
 */
export const regularizers: Plugin = definePlugin('@minibatch/regularizers', [...regularizerLayerEntries, ...regularizerEntries]);
