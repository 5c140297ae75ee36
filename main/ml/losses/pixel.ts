/** Pixel losses. Images are NCHW [B, C, H, W] in [0, 1]. */
import * as tf from '@tensorflow/tfjs-core';
import { meanPerSample } from './reduce';
import { patchMaskToPixels } from '../vit/patches';

/** Mean absolute error per image [B]. */
export function l1PerImage(rec: tf.Tensor4D, gt: tf.Tensor4D): tf.Tensor1D {
  return meanPerSample(tf.abs(tf.sub(rec, gt)));
}

/**
 * SimMIM's masked L1: sum(|rec - gt|·mask) / (sum(mask) + 1e-5) / C, i.e. the mean over masked pixels and
 * channels. mask: per patch [B, N] (1 = masked; square grid of `patchSize` patches) or per pixel [B, 1, H, W].
 */
export function maskedL1(rec: tf.Tensor4D, gt: tf.Tensor4D, mask: tf.Tensor2D | tf.Tensor4D, patchSize = 16): tf.Scalar {
  const channels = rec.shape[1];
  const pixelMask = mask.rank === 2 ? patchMaskToPixels(mask as tf.Tensor2D, patchSize) : (mask as tf.Tensor4D);
  const total = tf.sum(tf.mul(tf.abs(tf.sub(rec, gt)), pixelMask));
  return tf.div(total, tf.mul(tf.add(tf.sum(pixelMask), 1e-5), channels)) as tf.Scalar;
}
