/** Frequency-domain losses on orthonormal magnitude spectra, per image [B]; images [B, 1, H, W]. */
import * as tf from '@tensorflow/tfjs-core';
import { meanPerSample } from './reduce';
import { safeSqrt } from '../ops';
import { asBatch, blockMagnitude, dft2Transposed } from './dft';

export const LSD_EPS = 1e-3;

/** Magnitude spectra of rec and gt from one stacked DFT: [2, B, W·H] (transposed order, fine for means). */
function pairedSpectra(rec: tf.Tensor4D, gt: tf.Tensor4D): [tf.Tensor2D, tf.Tensor2D] {
  const b = rec.shape[0];
  const both = blockMagnitude(dft2Transposed(asBatch(tf.concat([rec, gt], 0) as tf.Tensor4D)));
  const flat = tf.reshape(both, [2, b, -1]);
  const [r, g] = tf.unstack(flat, 0) as [tf.Tensor2D, tf.Tensor2D];
  return [r, g];
}

/** Log spectral distance: sqrt(mean_uv (log(|F rec|+eps) - log(|F gt|+eps))²) per image. */
export function lsdPerImage(rec: tf.Tensor4D, gt: tf.Tensor4D, eps = LSD_EPS): tf.Tensor1D {
  const [r, g] = pairedSpectra(rec, gt);
  const d = tf.sub(tf.log(tf.add(r, eps)), tf.log(tf.add(g, eps)));
  return safeSqrt(meanPerSample(tf.square(d)));
}

/** USFM's frequency term: mean_uv (|F rec| - |F gt|)² per image. */
export function freqL2PerImage(rec: tf.Tensor4D, gt: tf.Tensor4D): tf.Tensor1D {
  const [r, g] = pairedSpectra(rec, gt);
  return meanPerSample(tf.squaredDifference(r, g));
}
