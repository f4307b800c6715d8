// The official ONNX operator tests (Debian's libonnx-testdata: node/<test>/model.onnx with
// test_data_set_0/input_*.pb and output_*.pb) for every op the importer claims. A test either
// passes — the imported graph reproduces the expected output — or the importer refuses it with
// a FormatError naming the attribute or feature it does not support; it never computes a wrong
// answer. Each claimed op must pass at least one test.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { noGrad, scope, tensor, transpose } from '@minibatch/core';
import { FormatError } from '@minibatch/train';
import { ONNX_OPS, decodeOnnx, decodeTensor, importOnnxGraph, pretrainedRegistry, tensorValues } from '../src/index.js';
import { encodeOnnx } from '../src/onnx/proto.js';

const NODE_TESTS = '/usr/share/libonnx-testdata/data/node';
const available = existsSync(NODE_TESTS);
if (!available) {
  if (process.env.CI === 'true') throw new Error(`${NODE_TESTS} is missing: .ci/run installs the Debian package libonnx-testdata`);
  console.log(`skipping the ONNX node tests: ${NODE_TESTS} is missing (sudo apt-get install libonnx-testdata)`);
}

/** Tests whose every node is an op the importer claims. */
function claimedTests(): { name: string; ops: string[] }[] {
  return readdirSync(NODE_TESTS).sort().flatMap((name) => {
    const path = join(NODE_TESTS, name, 'model.onnx');
    if (!existsSync(path) || !existsSync(join(NODE_TESTS, name, 'test_data_set_0'))) return [];
    const model = decodeOnnx(readFileSync(path), name);
    const ops = [...new Set((model.graph?.node ?? []).map((n) => n.op_type))];
    return ops.length > 0 && ops.every((op) => (ONNX_OPS as readonly string[]).includes(op)) ? [{ name, ops }] : [];
  });
}

type Outcome = { name: string; ops: string[]; result: 'passed' | 'refused'; reason?: string };

/** Inputs that are an op's parameters (weights, bounds, shapes) rather than the data flowing through it. */
const PARAMETER_INPUTS: Record<string, number[]> = { Conv: [1, 2], Gemm: [1, 2], MatMul: [1], Clip: [1, 2], Reshape: [1], Pad: [1, 2], BatchNormalization: [1, 2, 3, 4] };

/**
 * Runs one node test. The test gives every operand as a graph input; as in a real network,
 * parameters (weights, bounds, target shapes) and broadcast operands of lower rank become
 * initializers, and the data operands stay inputs.
 */
function runNodeTest(name: string, ops: string[]): Outcome {
  const dir = join(NODE_TESTS, name);
  const model = decodeOnnx(readFileSync(join(dir, 'model.onnx')), name);
  const data = join(dir, 'test_data_set_0');
  const graph = model.graph!;
  const inputs = graph.input!.filter((v) => !(graph.initializer ?? []).some((t) => t.name === v.name));
  const given = new Map(inputs.map((v, i) => [v.name, decodeTensor(readFileSync(join(data, `input_${i}.pb`)), `input_${i}.pb`)]));
  const constant = new Set<string>();
  for (const node of graph.node ?? []) {
    const ins = node.input ?? [];
    const params = PARAMETER_INPUTS[node.op_type];
    if (params !== undefined) params.forEach((i) => ins[i] && constant.add(ins[i]));
    else {
      const ranks = ins.map((x) => given.get(x)?.dims?.length ?? 0);
      ins.forEach((x, i) => given.has(x) && ranks[i] < Math.max(...ranks) && constant.add(x));
    }
  }
  graph.initializer = [...(graph.initializer ?? []), ...inputs.filter((v) => constant.has(v.name)).map((v) => ({ ...given.get(v.name)!, name: v.name }))];
  graph.input = inputs.filter((v) => !constant.has(v.name));
  let imported: ReturnType<typeof importOnnxGraph>;
  try {
    imported = importOnnxGraph(encodeOnnx(model), pretrainedRegistry(), name);
  } catch (error) {
    if (error instanceof FormatError && /not supported/.test(error.message)) return { name, ops, result: 'refused', reason: error.message.replace(`${name}: `, '') };
    throw error;
  }
  const expected = tensorValues(decodeTensor(readFileSync(join(data, 'output_0.pb')), 'output_0.pb'), 'output_0.pb');
  const actual = scope(() => noGrad(() => {
    const xs = graph.input!.map((v, i) => {
      const x = tensorValues(given.get(v.name)!, v.name);
      const t = tensor(Float32Array.from(x.data), x.shape);
      return imported.inputLayouts[i] === 'nchw' ? transpose(t, [0, 2, 3, 1]) : t; // images go in NHWC
    });
    let y = imported.model.run(xs)[0];
    if (imported.outputLayouts[0] === 'nchw') y = transpose(y, [0, 3, 1, 2]);
    return { shape: [...y.shape], data: y.data() };
  }));
  imported.model.dispose();
  expect(actual.shape, `${name}: output shape`).toEqual(expected.shape);
  let worst = 0;
  for (let i = 0; i < expected.data.length; i++) {
    const e = Number(expected.data[i]);
    const err = Math.abs(actual.data[i] - e) / (1e-5 + 1e-4 * Math.abs(e));
    if (!(err <= worst)) worst = err; // NaN fails
  }
  expect(worst, `${name}: worst error in units of (1e-5 + 1e-4·|expected|)`).toBeLessThanOrEqual(1);
  return { name, ops, result: 'passed' };
}

describe.runIf(available)('ONNX node tests (libonnx-testdata) for every op the importer claims', () => {
  it('each test passes or is refused with the unsupported feature named; every claimed op passes at least one', () => {
    const outcomes = claimedTests().map(({ name, ops }) => runNodeTest(name, ops));
    const passed = outcomes.filter((o) => o.result === 'passed');
    const refused = outcomes.filter((o) => o.result === 'refused');
    console.log(`ONNX node tests: ${passed.length} passed, ${refused.length} refused (unsupported attributes), of ${outcomes.length} using claimed ops`);
    for (const r of refused) console.log(`  refused ${r.name}: ${r.reason}`);
    const untested = ONNX_OPS.filter((op) => !passed.some((o) => o.ops.includes(op)));
    expect(untested).toEqual([]);
    expect(passed.length).toBeGreaterThanOrEqual(102);
    expect(outcomes.length).toBe(passed.length + refused.length);
  }, 120_000);
});
