import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { installWasmMatMul } from '../../../main/ml/ops/wasm-matmul';
import { nativeElementwiseActive } from '../../../main/ml/ops/wasm-native-kernels';
import { AdamW } from '../../../main/ml/train/adamw';
import {
  attention,
  batchedMatMulIsFast,
  batchMatMul,
  gatherRows,
  gelu,
  layerNorm,
  linear,
  magnitude,
  matMul2d,
  safeSqrt,
  selectRowsOneHot,
} from '../../../main/ml/ops';
import { directionalCheck, maxAbsDiff, randomTensor, setupWasm } from './numerics-helpers';

beforeAll(setupWasm);

/** Value and gradients of sum(f(xs)·w) with respect to xs, as plain arrays. */
function valueAndGrads(
  f: (...xs: tf.Tensor[]) => tf.Tensor,
  xs: tf.Tensor[],
  seed = 99,
): { value: Float32Array; grads: Float32Array[] } {
  return tf.tidy(() => {
    const y = f(...xs);
    const w = randomTensor(y.shape, seed);
    const g = tf.grads((...inputs: tf.Tensor[]) => tf.sum(tf.mul(f(...inputs), w)))(xs);
    return { value: y.dataSync() as Float32Array, grads: g.map((t) => t.dataSync() as Float32Array) };
  });
}

function expectSameAs(
  custom: (...xs: tf.Tensor[]) => tf.Tensor,
  reference: (...xs: tf.Tensor[]) => tf.Tensor,
  xs: tf.Tensor[],
  tol = 1e-5,
): void {
  const a = valueAndGrads(custom, xs);
  const b = valueAndGrads(reference, xs);
  expect(maxAbsDiff(a.value, b.value)).toBeLessThan(tol);
  a.grads.forEach((g, i) => expect(maxAbsDiff(g, b.grads[i]!)).toBeLessThan(tol));
}

function checkMatMul2d(): void {
  for (const ta of [false, true]) {
    for (const tb of [false, true]) {
      const a = randomTensor(ta ? [5, 4] : [4, 5], 1);
      const b = randomTensor(tb ? [3, 5] : [5, 3], 2);
      expectSameAs(
        (x, y) => matMul2d(x as tf.Tensor2D, y as tf.Tensor2D, ta, tb),
        (x, y) => tf.matMul(x as tf.Tensor2D, y as tf.Tensor2D, ta, tb),
        [a, b],
      );
    }
  }
}

function checkBatchMatMul(): void {
  for (const [ta, tb] of [
    [false, false],
    [false, true],
    [true, false],
    [true, true],
  ] as const) {
    const a = randomTensor(ta ? [3, 5, 4] : [3, 4, 5], 3);
    const b = randomTensor(tb ? [3, 6, 5] : [3, 5, 6], 4);
    expectSameAs(
      (x, y) => batchMatMul(x as tf.Tensor3D, y as tf.Tensor3D, ta, tb),
      (x, y) => tf.matMul(x as tf.Tensor3D, y as tf.Tensor3D, ta, tb),
      [a, b],
    );
  }
}

function checkLinear(): void {
  const x = randomTensor([6, 4], 5);
  const w = randomTensor([3, 4], 6);
  const b = randomTensor([3], 7);
  expectSameAs(
    (x1, w1, b1) => linear(x1 as tf.Tensor2D, w1 as tf.Tensor2D, b1 as tf.Tensor1D),
    (x1, w1, b1) => tf.add(tf.matMul(x1 as tf.Tensor2D, tf.transpose(w1)), b1),
    [x, w, b],
  );
  expectSameAs(
    (x1, w1) => linear(x1 as tf.Tensor2D, w1 as tf.Tensor2D),
    (x1, w1) => tf.matMul(x1 as tf.Tensor2D, tf.transpose(w1)),
    [x, w],
  );
}

function checkLayerNorm(): void {
  const x = randomTensor([5, 8], 11, 2, 0.5);
  const w = randomTensor([8], 12, 0.5, 1);
  const b = randomTensor([8], 13, 0.1);
  const reference = (x1: tf.Tensor, w1: tf.Tensor, b1: tf.Tensor) => {
    const { mean, variance } = tf.moments(x1, 1, true);
    return tf.add(tf.mul(tf.div(tf.sub(x1, mean), tf.sqrt(tf.add(variance, 1e-6))), w1), b1);
  };
  expectSameAs(
    (x1, w1, b1) => layerNorm(x1 as tf.Tensor2D, w1 as tf.Tensor1D, b1 as tf.Tensor1D),
    reference,
    [x, w, b],
    2e-5,
  );
}

function checkGelu(): void {
  const x = randomTensor([64], 21, 4);
  const reference = (x1: tf.Tensor) => tf.mul(tf.mul(x1, 0.5), tf.add(1, tf.erf(tf.div(x1, Math.SQRT2))));
  expectSameAs((x1) => gelu(x1), reference, [x]);
  // Known values: gelu(1) = 0.8413447, gelu(-1) = -0.1586553, and the tails: gelu(-9) ≈ -1e-18, gelu(9) = 9.
  const v = gelu(tf.tensor1d([1, -1, -9, 9])).dataSync();
  expect(v[0]).toBeCloseTo(0.8413447, 6);
  expect(v[1]).toBeCloseTo(-0.1586553, 6);
  expect(Math.abs(v[2]!)).toBeLessThan(1e-7);
  expect(v[3]).toBeCloseTo(9, 6);
}

describe('custom-gradient products', () => {
  it('matMul2d matches tf.matMul values and gradients for every transpose combination', checkMatMul2d);
  it('batchMatMul matches tf.matMul on 3-D tensors', checkBatchMatMul);
  it('linear is x·Wᵀ + b with PyTorch [out, in] weights, with or without bias', checkLinear);

  it('linear with constantInput gives the same weight gradients and a zero input gradient', () => {
    const x = randomTensor([6, 4], 5);
    const w = randomTensor([3, 4], 6);
    const b = randomTensor([3], 7);
    const a = valueAndGrads(
      (x1, w1, b1) =>
        linear(x1 as tf.Tensor2D, w1 as tf.Tensor2D, b1 as tf.Tensor1D, { constantInput: true }),
      [x, w, b],
    );
    const r = valueAndGrads(
      (x1, w1, b1) => linear(x1 as tf.Tensor2D, w1 as tf.Tensor2D, b1 as tf.Tensor1D),
      [x, w, b],
    );
    expect(maxAbsDiff(a.grads[1]!, r.grads[1]!)).toBeLessThan(1e-6);
    expect(maxAbsDiff(a.grads[2]!, r.grads[2]!)).toBeLessThan(1e-6);
    expect(Math.max(...a.grads[0]!.map(Math.abs))).toBe(0);
  });
});

describe('fused layers', () => {
  it('layerNorm matches the composed definition (eps 1e-6) in value and gradient', checkLayerNorm);
  it('gelu is the exact erf GELU with its closed-form derivative', checkGelu);

  it('attention matches a direct composition (softmax(q·kᵀ/√dh + bias)·v) with shared and per-sample bias', () => {
    const batch = 2;
    const tokens = 5;
    const heads = 2;
    const dh = 4;
    const dim = heads * dh;
    const qkv = randomTensor([batch * tokens, 3 * dim], 31);
    const reference = (x: tf.Tensor, bias?: tf.Tensor) => {
      const r = tf.transpose(tf.reshape(x, [batch, tokens, 3, heads, dh]), [2, 0, 3, 1, 4]);
      const [q, k, v] = tf.unstack(r) as tf.Tensor4D[];
      let s: tf.Tensor = tf.div(tf.matMul(q!, k!, false, true), Math.sqrt(dh));
      if (bias) s = tf.add(s, bias);
      const o = tf.matMul(tf.softmax(s) as tf.Tensor4D, v!);
      return tf.reshape(tf.transpose(o, [0, 2, 1, 3]), [batch * tokens, dim]);
    };
    const shape = { batch, tokens, heads };
    expectSameAs(
      (x) => attention(x as tf.Tensor2D, shape),
      (x) => reference(x),
      [qkv],
    );
    const shared = randomTensor([heads, tokens, tokens], 32);
    expectSameAs(
      (x, b) => attention(x as tf.Tensor2D, shape, b as tf.Tensor3D),
      (x, b) => reference(x, b),
      [qkv, shared],
    );
    const perSample = randomTensor([batch, heads, tokens, tokens], 33);
    expectSameAs(
      (x, b) => attention(x as tf.Tensor2D, shape, b as tf.Tensor4D),
      (x, b) => reference(x, b),
      [qkv, perSample],
    );
  });

  it('attention passes a finite-difference check', () => {
    const qkv = tf.variable(randomTensor([2 * 3, 3 * 4], 41));
    const bias = tf.variable(randomTensor([2, 3, 3], 42));
    const w = randomTensor([6, 4], 43);
    const check = directionalCheck(
      () =>
        tf.sum(
          tf.mul(attention(qkv as tf.Tensor2D, { batch: 2, tokens: 3, heads: 2 }, bias as tf.Tensor3D), w),
        ),
      [qkv, bias],
      1e-2,
    );
    expect(check.relErr).toBeLessThan(1e-2);
    tf.dispose([qkv, bias, w]);
  });
});

describe('row selection without gather gradients', () => {
  it('gatherRows scatters gradients back, summing repeated indices', () => {
    const table = randomTensor([4, 3], 51);
    const idx = [2, 0, 2, 3];
    const dy = randomTensor([4, 3], 52);
    const g = tf.grads((t: tf.Tensor) => tf.sum(tf.mul(gatherRows(t as tf.Tensor2D, idx), dy)))([table])[0]!;
    const expected = new Float32Array(12);
    const dyv = dy.dataSync();
    idx.forEach((r, i) => {
      for (let c = 0; c < 3; c++) expected[r * 3 + c]! += dyv[i * 3 + c]!;
    });
    expect(maxAbsDiff(g, expected)).toBeLessThan(1e-6);
    expect(maxAbsDiff(gatherRows(table as tf.Tensor2D, idx), tf.gather(table, idx))).toBe(0);
  });

  it('selectRowsOneHot equals a gather and has the same (scattered) gradient', () => {
    const m = randomTensor([5, 3], 61);
    const idx = [4, 1, 1];
    expect(maxAbsDiff(selectRowsOneHot(m as tf.Tensor2D, idx), tf.gather(m, idx))).toBe(0);
    const dy = randomTensor([3, 3], 62);
    const a = tf.grads((t: tf.Tensor) => tf.sum(tf.mul(selectRowsOneHot(t as tf.Tensor2D, idx), dy)))([
      m,
    ])[0]!;
    const b = tf.grads((t: tf.Tensor) => tf.sum(tf.mul(gatherRows(t as tf.Tensor2D, idx), dy)))([m])[0]!;
    expect(maxAbsDiff(a, b)).toBeLessThan(1e-6);
  });
});

describe('elementwise ops safe at zero', () => {
  it('safeSqrt and magnitude have finite gradients at 0 and exact ones elsewhere', () => {
    const x = tf.tensor1d([0, 4]);
    const gs = tf
      .grad((t: tf.Tensor) => tf.sum(safeSqrt(t)))(x)
      .dataSync();
    expect(Number.isFinite(gs[0]!)).toBe(true);
    expect(gs[1]).toBeCloseTo(0.25, 6);
    const re = tf.tensor1d([0, 3]);
    const im = tf.tensor1d([0, 4]);
    expect(Array.from(magnitude(re, im).dataSync())).toEqual([0, 5]);
    const [gr, gi] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(magnitude(a, b)))([re, im]);
    expect(Array.from(gr!.dataSync())).toEqual([0, expect.closeTo(0.6, 6)]);
    expect(Array.from(gi!.dataSync())).toEqual([0, expect.closeTo(0.8, 6)]);
  });
});

describe('WASM slicing kernels', () => {
  it('unstack, split and strided slices give the same values as a host-side copy', () => {
    const x = randomTensor([3, 4, 5], 71);
    const data = x.dataSync();
    const parts = tf.unstack(x);
    parts.forEach((p, i) =>
      expect(Array.from(p.dataSync())).toEqual(Array.from(data.slice(i * 20, (i + 1) * 20))),
    );
    const [a, b] = tf.split(x, [1, 3], 1);
    expect(a!.shape).toEqual([3, 1, 5]);
    expect(b!.shape).toEqual([3, 3, 5]);
    const s = tf.slice(x, [1, 1, 2], [2, 2, 3]).dataSync();
    const expected: number[] = [];
    for (let i = 1; i < 3; i++)
      for (let j = 1; j < 3; j++) for (let k = 2; k < 5; k++) expected.push(data[i * 20 + j * 5 + k]!);
    expect(Array.from(s)).toEqual(expected);
    expect(tf.getBackend()).toBe('wasm');
  });
});

describe("batched products with the training setup's WASM kernels", () => {
  it('switches from the per-entry loop to the replaced batched kernel with identical results', () => {
    const qkv = randomTensor([2 * 7, 3 * 8], 81) as tf.Tensor2D;
    const bias = randomTensor([2, 7, 7], 82) as tf.Tensor3D;
    const shape = { batch: 2, tokens: 7, heads: 2 };
    expect(batchedMatMulIsFast()).toBe(false); // stock WASM kernel: the per-entry loop is used
    const before = valueAndGrads((x, b) => attention(x as tf.Tensor2D, shape, b as tf.Tensor3D), [qkv, bias]);
    expect(installWasmMatMul({ nativeBlas: false })?.engine).toBe('xnnpack');
    expect(batchedMatMulIsFast()).toBe(true);
    const after = valueAndGrads((x, b) => attention(x as tf.Tensor2D, shape, b as tf.Tensor3D), [qkv, bias]);
    expect(maxAbsDiff(after.value, before.value)).toBeLessThan(1e-6);
    after.grads.forEach((g, i) => expect(maxAbsDiff(g, before.grads[i]!)).toBeLessThan(1e-6));
    // The native BLAS engine: transpose flags instead of explicit transposes, same values.
    expect(installWasmMatMul()?.engine).toBe('native-blas');
    const native = valueAndGrads((x, b) => attention(x as tf.Tensor2D, shape, b as tf.Tensor3D), [qkv, bias]);
    expect(maxAbsDiff(native.value, before.value)).toBeLessThan(1e-5);
    native.grads.forEach((g, i) => expect(maxAbsDiff(g, before.grads[i]!)).toBeLessThan(1e-5));
  });
});

describe('native engine: products with transpose flags, fused GELU and LayerNorm kernels', () => {
  beforeAll(() => {
    expect(installWasmMatMul()?.engine).toBe('native-blas');
    expect(nativeElementwiseActive()).toBe(true);
  });

  it('matMul2d, batchMatMul and linear keep their values and gradients when flags replace transposes', () => {
    checkMatMul2d();
    checkBatchMatMul();
    checkLinear();
  });

  it('the native layerNorm matches the composed definition in value and gradient', checkLayerNorm);
  it('the native gelu matches the erf definition in value and gradient', checkGelu);

  it('native gelu and layerNorm pass finite-difference checks and leave no tensors behind', () => {
    const x = tf.variable(randomTensor([6, 10], 51, 2));
    const w = tf.variable(randomTensor([10], 52, 0.5, 1));
    const b = tf.variable(randomTensor([10], 53, 0.1));
    const u = randomTensor([6, 10], 54);
    const loss = (): tf.Scalar =>
      tf.sum(tf.mul(gelu(layerNorm(x as tf.Tensor2D, w as tf.Tensor1D, b as tf.Tensor1D)), u));
    const before = tf.memory().numTensors;
    const { value, grads } = tf.variableGrads(loss, [x, w, b]);
    tf.dispose([value, ...Object.values(grads)]);
    expect(tf.memory().numTensors).toBe(before);
    const check = directionalCheck(loss, [x, w, b], 1e-2);
    expect(check.relErr).toBeLessThan(1e-2);
    tf.dispose([x, w, b, u]);
  });

  it('the native AdamW step equals the composed one (decayed and undecayed parameters), tensor count flat', () => {
    const opts = { beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.05 };
    const lrs = [1e-2, 2e-2, 5e-3];
    const grads = lrs.map(
      (_, s) =>
        new Map<string, tf.Tensor>([
          ['fc.weight', randomTensor([7, 5], 70 + s)],
          ['fc.bias', randomTensor([5], 80 + s)],
        ]),
    );
    const run = (native: boolean): Float32Array[] => {
      expect(installWasmMatMul({ nativeBlas: native })?.engine).toBe(native ? 'native-blas' : 'xnnpack');
      expect(nativeElementwiseActive()).toBe(native);
      const params = new Map<string, tf.Variable>([
        ['fc.weight', tf.variable(randomTensor([7, 5], 61))],
        ['fc.bias', tf.variable(randomTensor([5], 62))],
      ]);
      const adam = new AdamW(params, opts);
      const before = tf.memory().numTensors;
      grads.forEach((g, i) => adam.apply(g, lrs[i]!));
      expect(tf.memory().numTensors).toBe(before);
      const state = adam.exportState();
      const out = [...params.values()].map((p) => p.dataSync() as Float32Array);
      for (const m of state.moments.values()) out.push(m.expAvg, m.expAvgSq);
      adam.dispose();
      params.forEach((p) => p.dispose());
      return out;
    };
    const composed = run(false);
    const native = run(true);
    composed.forEach((c, i) => expect(maxAbsDiff(native[i]!, c)).toBeLessThan(1e-6));
    grads.forEach((g) => tf.dispose([...g.values()]));
  });
});
