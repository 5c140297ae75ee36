/** Exact (erf) GELU, as PyTorch's default nn.GELU, with a closed-form gradient instead of the erf chain's. */
import * as tf from '@tensorflow/tfjs-core';
import { GELU_GRAD_KERNEL, GELU_KERNEL, nativeElementwiseActive, runNative } from './wasm-native-kernels';

const INV_SQRT2 = Math.SQRT1_2;
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

const geluOp = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [x, save] = args as [tf.Tensor, tf.GradSaveFunc];
  if (nativeElementwiseActive()) {
    // One fused pass each way (main/ml/ops/wasm-native-kernels.ts).
    const [y, cdf] = runNative(GELU_KERNEL, { x }) as [tf.Tensor, tf.Tensor];
    save([x, cdf]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) =>
        runNative(GELU_GRAD_KERNEL, { x: saved[0]!, cdf: saved[1]!, dy: dy as tf.Tensor }),
    };
  }
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
