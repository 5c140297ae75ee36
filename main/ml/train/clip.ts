import * as tf from '@tensorflow/tfjs-core';

/** The global L2 norm of all gradients (one number read back from the backend). */
export function globalNorm(grads: Iterable<tf.Tensor>): number {
  const list = [...grads];
  if (list.length === 0) return 0;
  const norm = tf.tidy(() => {
    const squares = list.map((g) => tf.sum(tf.square(g)));
    return tf.sqrt(squares.length === 1 ? squares[0]! : tf.addN(squares));
  });
  const value = norm.dataSync()[0]!;
  norm.dispose();
  return value;
}

/**
 * torch.nn.utils.clip_grad_norm_: scale every gradient by maxNorm / (norm + 1e-6) when the global norm
 * exceeds maxNorm. Returns the norm before clipping and the new gradients (the old ones are disposed when replaced).
 */
export function clipByGlobalNorm(grads: Map<string, tf.Tensor>, maxNorm: number): number {
  const norm = globalNorm(grads.values());
  if (maxNorm > 0 && Number.isFinite(norm) && norm > maxNorm) {
    const scale = maxNorm / (norm + 1e-6);
    for (const [name, g] of grads) {
      grads.set(name, tf.mul(g, scale));
      g.dispose();
    }
  }
  return norm;
}
