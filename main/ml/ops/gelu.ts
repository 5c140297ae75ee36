/** Exact (erf) GELU, as PyTorch's default nn.GELU, with a closed-form gradient instead of the erf chain's. */
import * as tf from '@tensorflow/tfjs-core';

const INV_SQRT2 = Math.SQRT1_2;
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

const geluOp = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [x, save] = args as [tf.Tensor, tf.GradSaveFunc];
  // Φ(x) = 0.5·(1 + erf(x/√2)); gelu = x·Φ(x); gelu' = Φ(x) + x·φ(x)
  const cdf = tf.mul(0.5, tf.add(1, tf.erf(tf.mul(x, INV_SQRT2))));
  save([x, cdf]);
  return {
    value: tf.mul(x, cdf),
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
      const [sx, scdf] = saved as [tf.Tensor, tf.Tensor];
      const pdf = tf.mul(INV_SQRT_2PI, tf.exp(tf.mul(-0.5, tf.square(sx))));
      return [tf.mul(dy as tf.Tensor, tf.add(scdf, tf.mul(sx, pdf)))];
    },
  };
});

export function gelu<T extends tf.Tensor>(x: T): T {
  return geluOp(x) as T;
}
