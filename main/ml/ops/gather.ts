/**
 * Row selection with gradients that work on WASM. tf.gather's gradient needs UnsortedSegmentSum (missing on
 * WASM) and gatherND has no gradient at all, so:
 * - gatherRows: gather forward, ScatterNd (sums duplicate indices) backward; for lookup tables such as the
 *   relative-position-bias table.
 * - selectRowsOneHot: a one-hot matrix product (both directions are plain products); for small selections
 *   of learned rows (position embeddings of the visible patches).
 * Indices are plain arrays: they are data, never differentiated.
 */
import * as tf from '@tensorflow/tfjs-core';
import { matMul2d } from './matmul';

/** table [R, C] -> rows table[indices[i]] as [indices.length, C]; gradient scattered back (sums repeats). */
export function gatherRows(table: tf.Tensor2D, indices: Int32Array | number[]): tf.Tensor2D {
  const [rows, cols] = table.shape;
  const idx = Int32Array.from(indices);
  for (const i of idx) if (i < 0 || i >= rows) throw new Error(`gatherRows: index ${i} outside [0, ${rows})`);
  // The index tensors are made inside the forward and backward functions (both run in tidies), so nothing
  // outlives the call except what the tape keeps.
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => ({
    value: tf.gather(args[0] as tf.Tensor, tf.tensor1d(idx, 'int32'), 0),
    gradFunc: (dy: tf.Tensor | tf.Tensor[]) => [
      tf.scatterND(tf.tensor2d(idx, [idx.length, 1], 'int32'), dy as tf.Tensor, [rows, cols]),
    ],
  }));
  return op(table) as tf.Tensor2D;
}

/** One-hot [indices.length, depth] float32 matrix built on the host. */
export function oneHotRows(indices: ArrayLike<number>, depth: number): tf.Tensor2D {
  const data = new Float32Array(indices.length * depth);
  for (let i = 0; i < indices.length; i++) {
    const j = indices[i]!;
    if (j < 0 || j >= depth) throw new Error(`oneHotRows: index ${j} outside [0, ${depth})`);
    data[i * depth + j] = 1;
  }
  return tf.tensor2d(data, [indices.length, depth]);
}

/** matrix [R, C] -> rows matrix[indices[i]] via a one-hot product (gradient = one-hotᵀ · dy). */
export function selectRowsOneHot(matrix: tf.Tensor2D, indices: ArrayLike<number>): tf.Tensor2D {
  const oneHot = oneHotRows(indices, matrix.shape[0]);
  const rows = matMul2d(oneHot, matrix);
  oneHot.dispose(); // the product saved its own reference for the backward pass
  return rows;
}
