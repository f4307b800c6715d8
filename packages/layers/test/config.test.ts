// The plugin and JSON configs: every entry is registered, a model round-trips through JSON
// and gives identical outputs after loading its state, and bad configs are clear errors.
import { describe, expect, it } from 'vitest';
import { Rng, noGrad, randn, scope, type Tensor, full } from '@minibatch/core';
import { createRegistry, define, definePlugin, RegistryError, z } from '@minibatch/registry';
import {
  BatchNorm, Conv2d, Dense, Maxout, Module, Residual, Sequential, layers, modelFromConfig, modelToConfig,
  type Activation, type Loss,
} from '../src/index.js';
import { registry, values } from './helpers.js';

const rng = new Rng(31);
const out = (model: Module, x: Tensor): number[] => scope(() => noGrad(() => values(model.forward(x))));

const cnnConfig = [
  { name: 'conv2d', config: { filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', label: 'stem' } },
  { name: 'batchNorm', config: { momentum: 0.8 } },
  'maxPool2d',
  {
    name: 'residual',
    config: {
      block: [
        { name: 'conv2d', config: { filters: 6, kernelSize: 3, strides: 2, padding: 'same', activation: { name: 'leakyRelu', config: { alpha: 0.2 } } } },
        { name: 'batchNorm' },
      ],
      activation: 'elu',
    },
  },
  'globalAvgPool2d',
  { name: 'maxout', config: { units: 5, pieces: 3 } },
  { name: 'dense', config: { units: 3, activation: 'softmax', kernelInitializer: { name: 'gaussian', config: { std: 0.05 } } } },
];

describe('the layers plugin', () => {
  it('registers every layer, initializer, activation and loss by name', () => {
    expect(registry.list('layer')).toEqual([
      'add', 'avgPool2d', 'batchNorm', 'clip', 'clippedRelu', 'concatenate', 'conv2d', 'dense', 'depthwiseConv2d', 'divide', 'elu', 'flatten', 'globalAvgPool2d',
      'graph', 'hardSigmoid', 'hardSwish', 'leakyRelu', 'maxPool2d', 'maxout', 'multiply', 'normalization', 'permute', 'relu', 'relu6', 'rescaling', 'reshape',
      'residual', 'resizing', 'scaledTanh', 'separableConv2d', 'sequential', 'sigmoid', 'softmax', 'subtract', 'tanh', 'upSampling2d', 'zeroPadding2d',
    ]);
    expect(registry.list('activation')).toEqual([
      'clip', 'clippedRelu', 'elu', 'hardSigmoid', 'hardSwish', 'leakyRelu', 'maxout', 'relu', 'relu6', 'scaledTanh', 'sigmoid', 'softmax', 'tanh',
    ]);
    expect(registry.list('loss')).toEqual(['binaryCrossEntropyWithLogits', 'meanSquaredError', 'multiclassHinge', 'softmaxCrossEntropy']);
    expect(registry.list('initializer')).toHaveLength(9);
  });

  it('every layer has a static name equal to its registry name, and kind layer', () => {
    const configs: Record<string, unknown> = {
      dense: { units: 2 }, maxout: { units: 2 }, conv2d: { filters: 2, kernelSize: 1 }, sequential: { layers: ['relu'] },
      residual: { block: ['relu'] }, depthwiseConv2d: { kernelSize: 3 }, separableConv2d: { filters: 2, kernelSize: 3 },
      resizing: { height: 2, width: 2 }, rescaling: { scale: 2 }, normalization: { mean: 0, variance: 1 }, reshape: { targetShape: [-1] }, permute: { axes: [0] },
      graph: { nodes: [{ name: 'a', layer: 'relu', inputs: ['input'] }] },
    };
    for (const name of registry.list('layer')) {
      const layer = registry.create<Module>('layer', name, configs[name] ?? {});
      expect(layer).toBeInstanceOf(Module);
      expect(layer.name).toBe(name);
      expect(layer.kind).toBe('layer');
      expect(registry.serialize(layer).name).toBe(name);
    }
  });

  it('activations and losses from the registry serialize back to their specs', () => {
    const act = registry.create<Activation>('activation', 'leakyRelu', { alpha: 0.3 });
    expect(registry.serialize(act)).toEqual({ kind: 'activation', name: 'leakyRelu', config: { alpha: 0.3 } });
    const loss = registry.create<Loss>('loss', 'softmaxCrossEntropy', { labelSmoothing: 0.1 });
    expect(registry.serialize(loss)).toEqual({ kind: 'loss', name: 'softmaxCrossEntropy', config: { labelSmoothing: 0.1 } });
    expect(loss.name).toBe('softmaxCrossEntropy');
  });

  it('importing registers nothing: a fresh registry is empty until use(layers)', () => {
    expect(createRegistry().list()).toEqual([]);
    expect(() => createRegistry().use(layers).use(layers)).toThrow(/duplicate/);
  });
});

describe('model configs', () => {
  it('a model round-trips through JSON and gives identical outputs after loading its state', () => {
    const model = modelFromConfig(registry, cnnConfig);
    model.build([8, 8, 2], new Rng(1));
    out(model, randn([4, 8, 8, 2], { rng })); // training step: running statistics move
    model.eval();
    const json = JSON.stringify(modelToConfig(model));
    const again = modelFromConfig(registry, JSON.parse(json));
    expect(again).not.toBe(model);
    expect(JSON.stringify(modelToConfig(again))).toBe(json);
    again.build([8, 8, 2], new Rng(2));
    again.eval();
    const x = randn([3, 8, 8, 2], { rng });
    expect(out(again, x)).not.toEqual(out(model, x));
    again.loadStateDict(model.stateDict());
    expect(out(again, x)).toEqual(out(model, x));
    expect(again.summary([8, 8, 2])).toBe(model.summary([8, 8, 2]));
  });

  it('the same config and seed give the same model', () => {
    const a = modelFromConfig(registry, cnnConfig);
    const b = modelFromConfig(registry, JSON.stringify(cnnConfig));
    a.build([8, 8, 2], new Rng(7));
    b.build([8, 8, 2], new Rng(7));
    const x = randn([2, 8, 8, 2], { rng });
    expect(out(a, x)).toEqual(out(b, x));
  });

  it('the saved config is explicit: defaults filled in, default initializers named', () => {
    const spec = modelToConfig(modelFromConfig(registry, [{ name: 'dense', config: { units: 3, activation: 'relu' } }, { name: 'dense', config: { units: 2, activation: 'scaledTanh' } }, { name: 'maxout', config: { units: 2 } }, { name: 'dense', config: { units: 1 } }]));
    expect(spec).toEqual({
      kind: 'layer',
      name: 'sequential',
      config: {
        layers: [
          { kind: 'layer', name: 'dense', config: { units: 3, activation: 'relu', useBias: true, kernelInitializer: 'heNormal', biasInitializer: 'zeros' } },
          { kind: 'layer', name: 'dense', config: { units: 2, activation: 'scaledTanh', useBias: true, kernelInitializer: 'lecunNormal', biasInitializer: 'zeros' } },
          { kind: 'layer', name: 'maxout', config: { units: 2, useBias: true, kernelInitializer: 'lecunNormal', biasInitializer: 'zeros', pieces: 2 } },
          { kind: 'layer', name: 'dense', config: { units: 1, useBias: true, kernelInitializer: 'xavierUniform', biasInitializer: 'zeros' } },
        ],
      },
    });
  });

  it('modelToConfig equals registry.serialize, and labels and seeds survive', () => {
    const model = new Sequential([new Dense({ units: 2, label: 'head', seed: 5 })], { inputShape: [3], seed: 1, label: 'net' });
    expect(modelToConfig(model)).toEqual(registry.serialize(model));
    const again = modelFromConfig(registry, modelToConfig(model)) as Sequential;
    expect(again.label).toBe('net');
    expect(again.layers[0].label).toBe('head');
    expect(again.inputShape).toEqual([3]);
    expect(again.getConfig()).toEqual(model.getConfig());
  });

  it('accepts a spec with or without kind, a list, and JSON text', () => {
    expect(modelFromConfig(registry, { name: 'dense', config: { units: 2 } })).toBeInstanceOf(Dense);
    expect(modelFromConfig(registry, { kind: 'layer', name: 'batchNorm', config: {} })).toBeInstanceOf(BatchNorm);
    expect(modelFromConfig(registry, '[{"name":"relu"}]')).toBeInstanceOf(Sequential);
    expect(modelFromConfig(registry, 'relu').name).toBe('relu');
    expect(modelFromConfig(registry, { name: 'residual', config: { block: [{ name: 'dense', config: { units: 4 } }] } })).toBeInstanceOf(Residual);
  });

  it('unknown names get a did-you-mean that lists the known ones', () => {
    expect(() => modelFromConfig(registry, [{ name: 'dence', config: { units: 3 } }])).toThrow(/unknown layer 'dence' — did you mean 'dense'\?/);
    expect(() => modelFromConfig(registry, [{ name: 'dense', config: { units: 3, activation: 'rleu' } }])).toThrow(/unknown activation 'rleu' — did you mean 'relu'\?/);
    expect(() => modelFromConfig(registry, [{ name: 'dense', config: { units: 3, kernelInitializer: 'heNormel' } }])).toThrow(/did you mean 'heNormal'/);
  });

  it('bad configs name the field, the value and what is allowed', () => {
    let error: unknown;
    try {
      modelFromConfig(registry, [{ name: 'dense', config: { units: -3 } }]);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(RegistryError);
    expect((error as RegistryError).code).toBe('invalid-config');
    expect((error as Error).message).toMatch(/units.*-3/);
    expect(() => modelFromConfig(registry, [{ name: 'conv2d', config: { filters: 2, kernelSize: 3, padding: 'full' } }])).toThrow(/padding/);
    expect(() => modelFromConfig(registry, [{ name: 'batchNorm', config: { momentum: 1.5 } }])).toThrow(/momentum/);
    expect(() => modelFromConfig(registry, [{ kind: 'optimizer', name: 'sgd' } as never])).toThrow(/^\[0\]: .*kind, if given, must be "layer"/);
    expect(() => modelFromConfig(registry, { kind: 'optimizer', name: 'sgd' } as never)).toThrow(/^expected a layer name, .*kind, if given, must be "layer"/);
    expect(() => new Conv2d({ filters: 2, kernelSize: 3, padding: 'full' as never })).toThrow(/padding: .*'valid', 'same'.*got "full"/);
    expect(() => modelFromConfig(registry, '[{"name": ')).toThrow(/not valid JSON/);
  });

  it('unknown keys at any depth are refused, named by their full path, with did-you-mean', () => {
    const cases: [unknown, RegExp][] = [
      [[{ name: 'flatten' }, { name: 'dense', config: { unitz: 3 } }], /^ {2}- \[1\]\.config\.unitz: unknown key 'unitz' \(did you mean 'units'\?\)$/m],
      [[{ name: 'dense', config: { units: 3 }, activation: 'relu' }], /^\[0\]\.activation: unknown key 'activation' beside "name" and "config" — a layer's options go inside "config"$/],
      [[{ name: 'dense', config: { units: 3, activation: { name: 'leakyRelu', config: { alph: 0.2 } } } }], /- \[0\]\.config\.activation\.config\.alph: unknown key 'alph' \(did you mean 'alpha'\?\)/],
      [[{ name: 'dense', config: { units: 3, kernelInitializer: { name: 'gaussian', confg: {} } } }], /- \[0\]\.config\.kernelInitializer\.confg: unknown key 'confg' \(did you mean 'config'\?\)/],
      [[{ name: 'sequential', config: { layers: [{ name: 'relu' }, { name: 'dense', config: { units: 2, useBais: false } }] } }], /- \[0\]\.config\.layers\[1\]\.config\.useBais: unknown key 'useBais' \(did you mean 'useBias'\?\)/],
      [[{ name: 'residual', config: { block: [{ name: 'dens', config: { units: 2 } }] } }], /^\[0\]\.config\.block\[0\]: unknown layer 'dens' — did you mean 'dense'\?/],
      [[{ name: 'maxPool2d', config: { size: 2 } }], /- \[0\]\.config\.size: unknown key 'size'/],
      [[{ name: 'dense', config: { units: 3, activation: { name: 'relu', config: {}, extra: 1 } } }], /- \[0\]\.config\.activation\.extra: unknown key 'extra'/],
    ];
    for (const [spec, message] of cases) {
      let error: unknown;
      try {
        modelFromConfig(registry, spec as never);
      } catch (e) {
        error = e;
      }
      expect(error, JSON.stringify(spec)).toBeInstanceOf(RegistryError);
      expect((error as Error).message).toMatch(message);
    }
  });

  it('direct construction validates too', () => {
    expect(() => new Dense({ units: 0 })).toThrow(/invalid config for layer 'dense':\n  - units: expected a number > 0, got 0/);
    expect(() => new Conv2d({ filters: 2 } as never)).toThrow(/kernelSize/);
    expect(() => new Maxout({ units: 2, pieces: 0 })).toThrow(/pieces/);
  });

  it("names resolve through the registry: a plugin's initializer and activation work in configs", () => {
    const custom = definePlugin('custom', [
      define('initializer', 'fortyTwo', z.object({}), () => {
        const fn = Object.assign((shape: readonly number[]) => full(shape, 42), { kind: 'initializer' as const, getConfig: () => ({}) });
        Object.defineProperty(fn, 'name', { value: 'fortyTwo' });
        return fn;
      }),
      define('activation', 'double', z.object({}), (): Activation => ({
        kind: 'activation', name: 'double', pieces: 1, apply: (x) => x.mul(2), getConfig: () => ({}),
      })),
    ]);
    const reg = createRegistry().use(layers).use(custom);
    const model = modelFromConfig(reg, [{ name: 'dense', config: { units: 2, kernelInitializer: 'fortyTwo', activation: 'double' } }]);
    model.build([3]);
    expect(values(model.parameters()[0])).toEqual([42, 42, 42, 42, 42, 42]);
    const x = full([1, 3], 1);
    expect(out(model, x)).toEqual([252, 252]);
  });
});
