/**
 * What the USFM / USFM+ encoder sees: the image with its masked regions filled.
 *  - 'frequency' (USFM): x' = (1 − M)·x + M·|IFFT2(B·FFT2(x))|, B stopping a random half of the frequency
 *    rings for each sample (ring definition: bandEdges in main/ml/losses);
 *  - 'mean': masked regions take the image's mean intensity;
 *  - 'token': the image is unchanged; the encoder replaces masked patch embeddings by `mask_token`.
 * All of it is data preparation: computed outside the gradient tape.
 */
import * as tf from '@tensorflow/tfjs-core';
import { bandCount, bandEdges, bandStopMask, blockMagnitude, dft2Transposed, idft2FromTransposed } from '../losses';
import type { Rng } from '../train/rng';
import type { FillMode } from './model';

/** For each sample, `fraction` of the rings (rounded down, at least one) drawn without replacement. */
export function drawStoppedBands(rng: Rng, batch: number, size: number, fraction: number): number[][] {
  const count = bandCount(size);
  const stop = Math.max(1, Math.floor(count * fraction));
  return Array.from({ length: batch }, () =>
    rng
      .shuffle(Array.from({ length: count }, (_, k) => k))
      .slice(0, stop)
      .sort((a, b) => a - b),
  );
}

const ringCache = new Map<number, Float32Array[]>();

/** The pass masks of every single ring at this size (1 kept, 0 on the ring), computed once. */
function ringMasks(size: number): Float32Array[] {
  let rings = ringCache.get(size);
  if (!rings) {
    const edges = bandEdges(size);
    rings = Array.from({ length: edges.length - 1 }, (_, k) => bandStopMask(size, [k], edges));
    ringCache.set(size, rings);
  }
  return rings;
}

/** Per-sample band-stop masks [B·S·S] (transposition-symmetric, so valid in the DFT's transposed layout). */
export function bandStopMasks(size: number, stopped: readonly number[][]): Float32Array {
  const rings = ringMasks(size);
  const plane = size * size;
  const out = new Float32Array(stopped.length * plane).fill(1);
  stopped.forEach((bands, b) => {
    for (const k of bands) {
      const ring = rings[k]!;
      for (let i = 0; i < plane; i++) if (ring[i] === 0) out[b * plane + i] = 0;
    }
  });
  return out;
}

/** |IFFT2(B_b · FFT2(x_b))| for grey images [B, 1, S, S] with one mask per sample ([B·S·S]). */
export function frequencyCorrupt(images: tf.Tensor4D, masks: Float32Array): tf.Tensor4D {
  const [b, , h, w] = images.shape;
  return tf.tidy(() => {
    const spec = dft2Transposed(tf.reshape(images, [b, h, w]) as tf.Tensor3D);
    const filtered = tf.mul(spec, tf.tensor4d(masks, [b, w, 1, h])) as tf.Tensor4D;
    return tf.reshape(blockMagnitude(idft2FromTransposed(filtered)), [b, 1, h, w]) as tf.Tensor4D;
  });
}

/** The encoder input in [0, 1] intensity: `pixelMask` [B, 1, S, S] is 1 on masked pixels. */
export function fillMasked(images: tf.Tensor4D, pixelMask: tf.Tensor4D, fill: FillMode, bandMasks: Float32Array | null): tf.Tensor4D {
  return tf.tidy(() => {
    if (fill === 'token') return tf.clone(images);
    const source = fill === 'frequency' ? frequencyCorrupt(images, bandMasks!) : tf.mul(tf.ones(images.shape), tf.mean(images, [1, 2, 3], true));
    // (1 − M)·x + M·source: the spatially masked image and the filled regions summed pixel by pixel.
    return tf.add(tf.mul(tf.sub(1, pixelMask), images), tf.mul(pixelMask, source)) as tf.Tensor4D;
  });
}
