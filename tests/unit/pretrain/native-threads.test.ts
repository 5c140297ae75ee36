/** With the native BLAS engine, the compute threads go to OpenBLAS and the WASM module stays single-threaded. */
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { prepareTrainingBackend } from '../../../main/ml/train/backend-setup';

describe('native BLAS engine with 2 compute threads', () => {
  it('gives the threads to the BLAS, keeps WASM single-threaded and computes the same products', async () => {
    const { report, versions } = await prepareTrainingBackend({ backend: 'wasm', wasmThreads: 2 });
    expect(report.active).toBe('wasm');
    expect(report.threads).toBe(1);
    expect(report.matmul).toMatchObject({ engine: 'native-blas', library: 'libopenblas.so.0', threads: 2 });
    expect(report.matmul!.reason).toMatch(/^OpenBLAS/);
    expect(versions.threads).toBe('2');
    expect(versions.matmul).toBe('native-blas (libopenblas.so.0)');
    // Large enough for OpenBLAS to use both threads.
    const n = 384;
    const a = Float32Array.from({ length: n * n }, (_, i) => Math.sin(i * 0.37));
    const b = Float32Array.from({ length: n * n }, (_, i) => Math.cos(i * 0.11));
    const got = tf.tidy(() =>
      tf.matMul(tf.tensor2d(a, [n, n]), tf.tensor2d(b, [n, n]), false, true).dataSync(),
    );
    for (const [i, j] of [
      [0, 0],
      [17, 250],
      [383, 383],
    ] as const) {
      let s = 0;
      for (let k = 0; k < n; k++) s += a[i * n + k]! * b[j * n + k]!;
      expect(got[i * n + j]).toBeCloseTo(s, 3);
    }
  });
});
