/** USFM+ reconstruction loss: λ_ssim·(1 - SSIM) + λ_l1·L1 + λ_lsd·LSD, per image, averaged over the batch. */
import * as tf from '@tensorflow/tfjs-core';
import { l1PerImage } from './pixel';
import { lsdPerImage } from './spectral';
import { ssimPerImage } from './ssim';

export interface UsfmPlusLambdas {
  ssim: number;
  l1: number;
  lsd: number;
}

export const USFM_PLUS_LAMBDAS: UsfmPlusLambdas = { ssim: 0.5, l1: 0.5, lsd: 0.1 };

export interface UsfmPlusLoss {
  /** Scalar to minimise. */
  loss: tf.Scalar;
  /** Per-image terms [B] (for logging). */
  ssim: tf.Tensor1D;
  l1: tf.Tensor1D;
  lsd: tf.Tensor1D;
}

/** rec, gt [B, 1, H, W] in [0, 1]. */
export function usfmPlusLoss(rec: tf.Tensor4D, gt: tf.Tensor4D, lambdas: UsfmPlusLambdas = USFM_PLUS_LAMBDAS): UsfmPlusLoss {
  const ssim = ssimPerImage(rec, gt);
  const l1 = l1PerImage(rec, gt);
  const lsd = lsdPerImage(rec, gt);
  const perImage = tf.addN([tf.mul(lambdas.ssim, tf.sub(1, ssim)), tf.mul(lambdas.l1, l1), tf.mul(lambdas.lsd, lsd)]);
  return { loss: tf.mean(perImage) as tf.Scalar, ssim, l1, lsd };
}
