/**
 * The replacement WASM matrix-product kernels (main/ml/ops/wasm-matmul.ts), with both engines (XNNPACK
 * views and the native BLAS bridge), against the pure-JS cpu backend, for every transpose combination,
 * batched and broadcast operands, and the fused bias product whose original WASM kernel adds the bias
 * wrongly when a transpose flag is set.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { prepareTrainingBackend } from '../../../main/ml/train/backend-setup';
import { installWasmMatMul } from '../../../main/ml/ops/wasm-matmul';

interface Case {
  a: number[];
  b: number[];
  ta: boolean;
  tb: boolean;
  bias?: boolean;
}

const CASES: Case[] = [
  { a: [13, 24], b: [24, 7], ta: false, tb: false },
  { a: [13, 24], b: [7, 24], ta: false, tb: true },
  { a: [24, 13], b: [24, 7], ta: true, tb: false },
  { a: [24, 13], b: [7, 24], ta: true, tb: true },
  { a: [6, 9, 16], b: [6, 9, 16], ta: false, tb: true },
  { a: [6, 9, 9], b: [6, 9, 16], ta: true, tb: false },
  { a: [6, 9, 16], b: [1, 16, 5], ta: false, tb: false },
  { a: [2, 3, 5, 8], b: [2, 3, 8, 4], ta: false, tb: false },
  { a: [13, 24], b: [7, 24], ta: false, tb: true, bias: true },
  { a: [24, 13], b: [24, 7], ta: true, tb: false, bias: true },
  { a: [1, 13, 24], b: [1, 24, 7], ta: false, tb: false, bias: true },
  { a: [1, 16, 9], b: [4, 16, 5], ta: true, tb: false },
  { a: [4, 9, 16], b: [5, 16], ta: false, tb: true },
];

function values(shape: number[], seed: number): Float32Array {
  const n = shape.reduce((p, d) => p * d, 1);
  return Float32Array.from({ length: n }, (_, i) => Math.sin(seed * 12.9898 + i * 78.233) * 0.5);
}

function run(c: Case): Float32Array {
  return tf.tidy(() => {
    const a = tf.tensor(values(c.a, 1), c.a);
    const b = tf.tensor(values(c.b, 2), c.b);
    if (!c.bias) return tf.matMul(a, b, c.ta, c.tb).dataSync() as Float32Array;
    const n = c.tb ? c.b[c.b.length - 2]! : c.b[c.b.length - 1]!;
    const bias = tf.tensor1d(values([n], 3).map((v) => v * 10));
    return tf.fused
      .matMul({ a: a as tf.Tensor2D, b: b as tf.Tensor2D, transposeA: c.ta, transposeB: c.tb, bias })
      .dataSync() as Float32Array;
  });
}

/** Reductions: over leading axes (native column sums when that engine is on) and others (tfjs' Sum). */
const SUMS: { shape: number[]; axis: number | number[]; keepDims?: boolean }[] = [
  { shape: [1576, 19], axis: 0 },
  { shape: [8, 3, 5, 5], axis: 0, keepDims: true },
  { shape: [4, 6, 7], axis: [1, 0] },
  { shape: [5, 7], axis: [0, 1] },
  { shape: [5, 7], axis: -1 },
  { shape: [4, 6, 7], axis: [0, 2] },
];

function runSum(c: (typeof SUMS)[number]): { values: Float32Array; shape: number[] } {
  return tf.tidy(() => {
    const y = tf.sum(tf.tensor(values(c.shape, 7), c.shape), c.axis, c.keepDims);
    return { values: y.dataSync() as Float32Array, shape: y.shape };
  });
}

let expected: Float32Array[] = [];
let expectedSums: { values: Float32Array; shape: number[] }[] = [];

beforeAll(async () => {
  await tf.setBackend('cpu');
  expected = CASES.map(run);
  expectedSums = SUMS.map(runSum);
  const { report } = await prepareTrainingBackend({ backend: 'wasm' });
  expect(report.active).toBe('wasm');
  // CI installs OpenBLAS (.ci/run): the training setup picks the native engine.
  expect(report.matmul?.engine).toBe('native-blas');
});

describe.each(['xnnpack', 'native-blas'] as const)('WASM matrix products, %s engine', (engine) => {
  beforeAll(() => {
    expect(installWasmMatMul({ nativeBlas: engine === 'native-blas' })?.engine).toBe(engine);
  });

  it('sums over leading and other axes as the cpu backend does', () => {
    SUMS.forEach((c, i) => {
      const before = tf.memory().numTensors;
      const got = runSum(c);
      expect(tf.memory().numTensors).toBe(before);
      expect(got.shape).toEqual(expectedSums[i]!.shape);
      got.values.forEach((v, k) => expect(Math.abs(v - expectedSums[i]!.values[k]!)).toBeLessThan(1e-4));
    });
  });

  CASES.forEach((c, i) => {
    it(`${c.bias ? 'fused ' : ''}[${c.a}]${c.ta ? 'ᵀ' : ''} · [${c.b}]${c.tb ? 'ᵀ' : ''}`, () => {
      const before = tf.memory().numTensors;
      const got = run(c);
      expect(tf.memory().numTensors).toBe(before);
      expect(got.length).toBe(expected[i]!.length);
      let worst = 0;
      got.forEach((v, k) => (worst = Math.max(worst, Math.abs(v - expected[i]![k]!))));
      expect(worst).toBeLessThan(1e-4);
    });
  });

  it('keeps gradients of products exact (2-D chain through both operands)', () => {
    const a = tf.variable(tf.tensor(values([5, 6], 4), [5, 6]));
    const b = tf.variable(tf.tensor(values([4, 6], 5), [4, 6]));
    const { grads } = tf.variableGrads(() => tf.sum(tf.square(tf.matMul(a, b, false, true))), [a, b]);
    // d/dA sum((A Bᵀ)²) = 2 (A Bᵀ) B ; d/dB = 2 (A Bᵀ)ᵀ A, computed on the host.
    const A = values([5, 6], 4);
    const B = values([4, 6], 5);
    const C = new Float64Array(20);
    for (let i = 0; i < 5; i++)
      for (let j = 0; j < 4; j++) for (let k = 0; k < 6; k++) C[i * 4 + j] += A[i * 6 + k]! * B[j * 6 + k]!;
    const dA = grads[a.name]!.dataSync();
    const dB = grads[b.name]!.dataSync();
    for (let i = 0; i < 5; i++)
      for (let k = 0; k < 6; k++) {
        let s = 0;
        for (let j = 0; j < 4; j++) s += 2 * C[i * 4 + j]! * B[j * 6 + k]!;
        expect(dA[i * 6 + k]).toBeCloseTo(s, 4);
      }
    for (let j = 0; j < 4; j++)
      for (let k = 0; k < 6; k++) {
        let s = 0;
        for (let i = 0; i < 5; i++) s += 2 * C[i * 4 + j]! * A[i * 6 + k]!;
        expect(dB[j * 6 + k]).toBeCloseTo(s, 4);
      }
    a.dispose();
    b.dispose();
    Object.values(grads).forEach((g) => g.dispose());
  });
});
