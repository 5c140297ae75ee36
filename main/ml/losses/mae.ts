/** MAE's reconstruction loss on masked patches (He et al. 2022, PyTorch reference code). */
import * as tf from '@tensorflow/tfjs-core';
import { patchify } from '../vit/patches';

export interface MaeLossOptions {
  patchSize?: number;
  /** Normalise each target patch by its mean and unbiased variance (MAE's norm_pix_loss; default true). */
  normPixLoss?: boolean;
}

/**
 * pred [B, N, p·p·C] in MAE's (row, col, channel) patch order; images [B, C, H, W]; mask [B, N] with 1 on
 * masked (reconstructed) patches. Returns mean over masked patches of the per-patch MSE against
 * (t - mean) / sqrt(var + 1e-6), var unbiased.
 */
export function maeLoss(pred: tf.Tensor3D, images: tf.Tensor4D, mask: tf.Tensor2D, options: MaeLossOptions = {}): tf.Scalar {
  const p = options.patchSize ?? 16;
  let target: tf.Tensor3D = patchify(images, p, 'hwc');
  if (!pred.shape.every((v, i) => v === target.shape[i])) throw new Error(`maeLoss: pred [${pred.shape}] vs target patches [${target.shape}]`);
  if (options.normPixLoss ?? true) {
    const size = target.shape[2];
    const mean = tf.mean(target, -1, true);
    const centred = tf.sub(target, mean);
    const variance = tf.div(tf.sum(tf.square(centred), -1, true), size - 1);
    target = tf.div(centred, tf.sqrt(tf.add(variance, 1e-6)));
  }
  const perPatch = tf.mean(tf.squaredDifference(pred, target), -1); // [B, N]
  return tf.div(tf.sum(tf.mul(perPatch, mask)), tf.sum(mask)) as tf.Scalar;
}
