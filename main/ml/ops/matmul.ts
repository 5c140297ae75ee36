/**
 * Matrix products with hand-written gradients. tfjs' built-in BatchMatMul gradient was measured 10-20x
 * slower than the forward pass on WASM (it goes through generic broadcasting reductions), so every product
 * on the training path uses these: the backward pass is two plain products with explicit transpose flags.
 */
import * as tf from '@tensorflow/tfjs-core';

/** Gradients of C = op(A)·op(B) for each combination of transpose flags (op = identity or transpose). */
function productGrads<R extends tf.Rank>(dC: tf.Tensor<R>, a: tf.Tensor<R>, b: tf.Tensor<R>, ta: boolean, tb: boolean): [tf.Tensor<R>, tf.Tensor<R>] {
  if (!ta && !tb) return [tf.matMul(dC, b, false, true), tf.matMul(a, dC, true, false)];
  if (!ta && tb) return [tf.matMul(dC, b, false, false), tf.matMul(dC, a, true, false)];
  if (ta && !tb) return [tf.matMul(b, dC, false, true), tf.matMul(a, dC, false, false)];
  return [tf.matMul(b, dC, true, true), tf.matMul(dC, a, true, true)];
}

const productOps = new Map<string, (a: tf.Tensor, b: tf.Tensor) => tf.Tensor>();

function productOp(ta: boolean, tb: boolean): (a: tf.Tensor, b: tf.Tensor) => tf.Tensor {
  const key = `${ta}${tb}`;
  let op = productOps.get(key);
  if (!op) {
    op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const [a, b, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
      // Saved (not closed over) so the inputs outlive any tidy between the forward and backward passes.
      save([a, b]);
      return {
        value: tf.matMul(a, b, ta, tb),
        gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => productGrads(dy as tf.Tensor, saved[0]!, saved[1]!, ta, tb),
      };
    }) as (a: tf.Tensor, b: tf.Tensor) => tf.Tensor;
    productOps.set(key, op);
  }
  return op;
}

/** op(a)·op(b) for 2-D tensors, differentiable on every backend. */
export function matMul2d(a: tf.Tensor2D, b: tf.Tensor2D, transposeA = false, transposeB = false): tf.Tensor2D {
  return productOp(transposeA, transposeB)(a, b) as tf.Tensor2D;
}

/**
 * Batched op(a)·op(b) for 3-D tensors with the same batch size (no broadcasting). Prefer matMul2d where
 * the batch can be folded into the rows: batched products are several times slower on WASM.
 */
export function batchMatMul(a: tf.Tensor3D, b: tf.Tensor3D, transposeA = false, transposeB = false): tf.Tensor3D {
  if (a.shape[0] !== b.shape[0]) throw new Error(`batchMatMul: batch sizes differ (${a.shape[0]} vs ${b.shape[0]})`);
  return productOp(transposeA, transposeB)(a, b) as tf.Tensor3D;
}

type SavedArgs = (tf.Tensor | tf.GradSaveFunc)[];

const linearWithBias = tf.customGrad((...args: SavedArgs) => {
  const [x, w, b, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D, tf.GradSaveFunc];
  save([x, w]);
  return {
    value: tf.fused.matMul({ a: x, b: w, transposeB: true, bias: b }),
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
      const [sx, sw] = saved as [tf.Tensor2D, tf.Tensor2D];
      const g = dy as tf.Tensor2D;
      return [tf.matMul(g, sw), tf.matMul(g, sx, true, false), tf.sum(g, 0)];
    },
  };
});

const linearNoBias = tf.customGrad((...args: SavedArgs) => {
  const [x, w, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.GradSaveFunc];
  save([x, w]);
  return {
    value: tf.matMul(x, w, false, true),
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
      const [sx, sw] = saved as [tf.Tensor2D, tf.Tensor2D];
      const g = dy as tf.Tensor2D;
      return [tf.matMul(g, sw), tf.matMul(g, sx, true, false)];
    },
  };
});

/** For inputs that never need a gradient (image patches): skips the dx product, returns zeros instead. */
const linearConstInput = tf.customGrad((...args: SavedArgs) => {
  const [x, w, b, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D, tf.GradSaveFunc];
  save([x]);
  return {
    value: tf.fused.matMul({ a: x, b: w, transposeB: true, bias: b }),
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
      const sx = saved[0] as tf.Tensor2D;
      const g = dy as tf.Tensor2D;
      return [tf.zerosLike(sx), tf.matMul(g, sx, true, false), tf.sum(g, 0)];
    },
  };
});

/**
 * PyTorch's nn.Linear on rows: y = x·Wᵀ + b with x [M, in], weight [out, in] (PyTorch layout, used as
 * stored: the transpose is a flag of the product, never materialised), bias [out].
 * `constantInput`: x is data, not a function of parameters, so its gradient is not computed.
 */
export function linear(x: tf.Tensor2D, weight: tf.Tensor2D, bias?: tf.Tensor1D, options: { constantInput?: boolean } = {}): tf.Tensor2D {
  if (options.constantInput) {
    if (!bias) throw new Error('linear: constantInput needs a bias');
    return linearConstInput(x, weight, bias) as tf.Tensor2D;
  }
  return (bias ? linearWithBias(x, weight, bias) : linearNoBias(x, weight)) as tf.Tensor2D;
}
