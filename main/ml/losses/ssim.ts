/**
 * SSIM (Wang et al. 2004) exactly as the reference: 11x11 Gaussian window (σ 1.5), K1 0.01, K2 0.03,
 * 'valid' filtering, population variances, mean over the map; images in [0, 1].
 * The separable Gaussian is two 2-D products with banded [N, N-10] matrices (one transpose between), and
 * the five filtered maps (a, b, a², b², ab) go through them as one stacked batch.
 */
import * as tf from '@tensorflow/tfjs-core';
import { meanPerSample } from './reduce';
import { matMul2d } from '../ops';
import { asBatch } from './dft';
import { cachedMatrix } from './constants';

export const SSIM_WINDOW = 11;
export const SSIM_SIGMA = 1.5;
const K1 = 0.01;
const K2 = 0.03;

export function gaussianWindow1d(size = SSIM_WINDOW, sigma = SSIM_SIGMA): Float64Array {
  const g = Float64Array.from({ length: size }, (_, i) => Math.exp(-((i - Math.floor(size / 2)) ** 2) / (2 * sigma * sigma)));
  const total = g.reduce((a, b) => a + b, 0);
  return g.map((v) => v / total);
}

/** Valid correlation with the 1-D window along one axis of length n, as an [n, n-size+1] banded matrix. */
function filterMatrix(n: number): tf.Tensor2D {
  const out = n - SSIM_WINDOW + 1;
  return cachedMatrix(`ssim:${n}`, n, out, () => {
    const g = gaussianWindow1d();
    const m = new Float64Array(n * out);
    for (let j = 0; j < out; j++) for (let k = 0; k < SSIM_WINDOW; k++) m[(j + k) * out + j] = g[k]!;
    return m;
  });
}

/** Per-image SSIM [B] of a, b [B, 1, H, W] (data range 1). */
export function ssimPerImage(a: tf.Tensor4D, b: tf.Tensor4D, dataRange = 1): tf.Tensor1D {
  const [batch, , h, w] = a.shape;
  if (h < SSIM_WINDOW || w < SSIM_WINDOW) throw new Error(`ssim: images must be at least ${SSIM_WINDOW}x${SSIM_WINDOW}`);
  const x = asBatch(a);
  const y = asBatch(b);
  const ho = h - SSIM_WINDOW + 1;
  const wo = w - SSIM_WINDOW + 1;
  const stacked = tf.concat([x, y, tf.square(x), tf.square(y), tf.mul(x, y)], 0); // [5B, H, W]
  const alongW = matMul2d(tf.reshape(stacked, [5 * batch * h, w]), filterMatrix(w)); // [(5B, H), Wo]
  const swapped = tf.reshape(tf.transpose(tf.reshape(alongW, [5 * batch, h, wo]), [0, 2, 1]), [5 * batch * wo, h]) as tf.Tensor2D;
  const filtered = tf.reshape(matMul2d(swapped, filterMatrix(h)), [5, batch, wo * ho]); // transposed maps: fine for a mean
  const [muA, muB, eAA, eBB, eAB] = tf.unstack(filtered, 0) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
  const c1 = (K1 * dataRange) ** 2;
  const c2 = (K2 * dataRange) ** 2;
  const muAB = tf.mul(muA, muB);
  const muAA = tf.square(muA);
  const muBB = tf.square(muB);
  const sigmaAB = tf.sub(eAB, muAB);
  const sigmaSum = tf.sub(tf.add(eAA, eBB), tf.add(muAA, muBB));
  const num = tf.mul(tf.add(tf.mul(2, muAB), c1), tf.add(tf.mul(2, sigmaAB), c2));
  const den = tf.mul(tf.add(tf.add(muAA, muBB), c1), tf.add(sigmaSum, c2));
  return meanPerSample(tf.div(num, den));
}
