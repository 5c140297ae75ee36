/**
 * LayerNorm over the last axis of a 2-D [M, D] tensor with a fused hand-written gradient: the automatic
 * gradient of mean/variance/rsqrt builds about fifteen tape nodes; this one needs two reductions.
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  LAYER_NORM_GRAD_KERNEL,
  LAYER_NORM_KERNEL,
  nativeElementwiseActive,
  runNative,
} from './wasm-native-kernels';

const layerNormOps = new Map<number, (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor) => tf.Tensor>();

function layerNormOp(eps: number): (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor) => tf.Tensor {
  let op = layerNormOps.get(eps);
  if (op) return op;
  op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [x, w, b, save] = args as [tf.Tensor2D, tf.Tensor1D, tf.Tensor1D, tf.GradSaveFunc];
    if (nativeElementwiseActive()) {
      // One fused pass each way (main/ml/ops/wasm-native-kernels.ts).
      const [y, xhat, rstd] = runNative(LAYER_NORM_KERNEL, { x, w, b }, { eps }) as [
        tf.Tensor2D,
        tf.Tensor2D,
        tf.Tensor2D,
      ];
      save([xhat, rstd, w]);
      return {
        value: y,
        gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) =>
          runNative(LAYER_NORM_GRAD_KERNEL, {
            g: dy as tf.Tensor,
            xhat: saved[0]!,
            rstd: saved[1]!,
            w: saved[2]!,
          }),
      };
    }
    const mean = tf.mean(x, 1, true);
    const centred = tf.sub(x, mean);
    const variance = tf.mean(tf.square(centred), 1, true);
    const rstd = tf.rsqrt(tf.add(variance, eps));
    const xhat = tf.mul(centred, rstd);
    save([xhat, rstd, w]);
    return {
      value: tf.add(tf.mul(xhat, w), b),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const g = dy as tf.Tensor2D;
        const [sxhat, srstd, sw] = saved as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D];
        const gw = tf.mul(g, sw);
        const dx = tf.mul(
          srstd,
          tf.sub(tf.sub(gw, tf.mean(gw, 1, true)), tf.mul(sxhat, tf.mean(tf.mul(gw, sxhat), 1, true))),
        );
        return [dx, tf.sum(tf.mul(g, sxhat), 0), tf.sum(g, 0)];
      },
    };
  }) as (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor) => tf.Tensor;
  layerNormOps.set(eps, op);
  return op;
}

/** PyTorch F.layer_norm(x, (D,), weight, bias, eps) for x [M, D]. timm/BEiT ViTs use eps 1e-6. */
export function layerNorm(x: tf.Tensor2D, weight: tf.Tensor1D, bias: tf.Tensor1D, eps = 1e-6): tf.Tensor2D {
  return layerNormOp(eps)(x, weight, bias) as tf.Tensor2D;
}
