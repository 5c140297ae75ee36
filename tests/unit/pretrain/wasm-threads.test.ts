/**
 * The threaded WASM build under Node (main/ml/train/wasm-threads.ts): two XNNPACK threads, same results.
 * Only without the native BLAS engine (which takes the threads itself: native-threads.test.ts).
 */
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { prepareTrainingBackend } from '../../../main/ml/train/backend-setup';

describe('threaded WASM backend in Node', () => {
  it('starts with 2 threads and computes the same products', async () => {
    process.env.USFM_WASM_MATMUL = 'xnnpack'; // this file runs in its own process (vitest forks)
    const { report, versions } = await prepareTrainingBackend({ backend: 'wasm', wasmThreads: 2 });
    expect(report.active).toBe('wasm');
    expect(report.threads).toBe(2);
    expect(versions.threads).toBe('2');
    expect(report.matmul).toMatchObject({ engine: 'xnnpack', reason: 'USFM_WASM_MATMUL=xnnpack' });
    const n = 96;
    const a = Float32Array.from({ length: n * n }, (_, i) => Math.sin(i * 0.37));
    const b = Float32Array.from({ length: n * n }, (_, i) => Math.cos(i * 0.11));
    const got = tf.tidy(() => tf.matMul(tf.tensor2d(a, [n, n]), tf.tensor2d(b, [n, n])).dataSync());
    for (const [i, j] of [
      [0, 0],
      [17, 50],
      [95, 95],
    ] as const) {
      let s = 0;
      for (let k = 0; k < n; k++) s += a[i * n + k]! * b[k * n + j]!;
      expect(got[i * n + j]).toBeCloseTo(s, 3);
    }
  });
});
