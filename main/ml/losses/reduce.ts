/**
 * Means over many elements in two stages. WASM's Mean/Sum accumulate sequentially in float32, which loses
 * about 1e-5 relative over a 224x224 image; summing rows first keeps each accumulation short (PyTorch
 * reduces pairwise and is accurate to about 1e-7).
 */
import * as tf from '@tensorflow/tfjs-core';

/** Mean over all axes but the first of x [B, ...] -> [B]. */
export function meanPerSample(x: tf.Tensor): tf.Tensor1D {
  const b = x.shape[0]!;
  const size = x.size / b;
  let inner = Math.round(Math.sqrt(size));
  while (size % inner !== 0) inner--;
  return tf.mean(tf.mean(tf.reshape(x, [b, size / inner, inner]), 2), 1) as tf.Tensor1D;
}
