/**
 * Constant matrices (DFT, Gaussian filters) built once per size and backend in float64, rounded to float32,
 * and kept out of tidy scopes: they are reused by every loss call and never disposed.
 */
import * as tf from '@tensorflow/tfjs-core';

const cache = new Map<string, tf.Tensor2D>();

export function cachedMatrix(key: string, rows: number, cols: number, build: () => Float64Array | Float32Array): tf.Tensor2D {
  const fullKey = `${tf.getBackend()}:${key}`;
  let t = cache.get(fullKey);
  if (!t || t.isDisposed) {
    t = tf.keep(tf.tensor2d(Float32Array.from(build()), [rows, cols]));
    cache.set(fullKey, t);
  }
  return t;
}

/** cos and sin of 2π·k·n/N scaled by 1/√N (orthonormal), exact angle reduction via (k·n) mod N. */
export function dftTables(n: number): { cos: Float64Array; sin: Float64Array } {
  const cos = new Float64Array(n * n);
  const sin = new Float64Array(n * n);
  const scale = 1 / Math.sqrt(n);
  for (let k = 0; k < n; k++) {
    for (let j = 0; j < n; j++) {
      const a = (2 * Math.PI * ((k * j) % n)) / n;
      cos[k * n + j] = Math.cos(a) * scale;
      sin[k * n + j] = Math.sin(a) * scale;
    }
  }
  return { cos, sin };
}
