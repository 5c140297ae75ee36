/**
 * USFM's band-stop frequency corruption: rings around the DC term are removed from the spectrum and the
 * image is rebuilt as |IFFT2(M · FFT2(x))|. Data augmentation: no gradient is needed, but it runs on the
 * device with the same DFT products as the losses.
 */
import * as tf from '@tensorflow/tfjs-core';
import { asBatch, blockMagnitude, dft2Transposed, idft2FromTransposed } from './dft';

export interface BandEdgeOptions {
  centerProtect?: number;
  growth?: number;
  maxStep?: number;
}

/** e0 = centerProtect (4); e(k+1) = e(k) + min(max(1, floor(growth·e(k))), maxStep) until past S/2. */
export function bandEdges(size: number, options: BandEdgeOptions = {}): number[] {
  const { centerProtect = 4, growth = 0.5, maxStep = 16 } = options;
  const edges = [centerProtect];
  while (edges[edges.length - 1]! <= size / 2) {
    const e = edges[edges.length - 1]!;
    edges.push(e + Math.min(Math.max(1, Math.floor(e * growth)), maxStep));
  }
  return edges;
}

/** Number of bands (rings) for an image size: bandEdges(size).length - 1. */
export function bandCount(size: number, options: BandEdgeOptions = {}): number {
  return bandEdges(size, options).length - 1;
}

/**
 * [S·S] row-major, 1 where a frequency is kept and 0 on the stopped rings e(k) < d <= e(k+1), d the
 * distance of (u, v) to DC with wrap-around. d is computed exactly as the float32 reference does it,
 * torch.fft.fftfreq(S)·S: k·fl(1/S)·S is not always an integer in float32 (3 -> 3.0000002), which moves
 * frequencies on a ring edge into the next band.
 */
export function bandStopMask(size: number, stopped: readonly number[], edges: readonly number[] = bandEdges(size)): Float32Array {
  const f = Math.fround;
  const step = f(1 / size);
  const freq = Array.from({ length: size }, (_, i) => f(f((i < Math.ceil(size / 2) ? i : i - size) * step) * size));
  const mask = new Float32Array(size * size).fill(1);
  for (const k of stopped) if (k < 0 || k + 1 >= edges.length) throw new Error(`bandStopMask: band ${k} outside [0, ${edges.length - 1})`);
  for (let u = 0; u < size; u++) {
    for (let v = 0; v < size; v++) {
      const d = f(Math.sqrt(f(f(freq[u]! ** 2) + f(freq[v]! ** 2))));
      for (const k of stopped) if (d > edges[k]! && d <= edges[k + 1]!) mask[u * size + v] = 0;
    }
  }
  return mask;
}

/** |IFFT2(M · FFT2(x))| for grey images [B, 1, S, S] and a mask [S·S] (or [S, S]) symmetric in (u, v). */
export function freqCorrupt(images: tf.Tensor4D, mask: Float32Array | tf.Tensor2D): tf.Tensor4D {
  const [b, , h, w] = images.shape;
  if (h !== w) throw new Error('freqCorrupt: square images only');
  return tf.tidy(() => {
    // The spectrum is in transposed (v, u) order; a radial mask is symmetric so it applies unchanged.
    const m = mask instanceof Float32Array ? tf.tensor4d(mask, [1, w, 1, h]) : tf.reshape(mask, [1, w, 1, h]);
    const spec = tf.mul(dft2Transposed(asBatch(images)), m) as tf.Tensor4D;
    return tf.reshape(blockMagnitude(idft2FromTransposed(spec)), [b, 1, h, w]);
  });
}
