/**
 * Orthonormal 2-D DFT as matrix products (TF.js has no FFT gradient and WASM no FFT kernel). With
 * F = C - iS (C, S the symmetric cos/sin tables over √N), a 2-D transform is F·X·F: each side is one 2-D
 * product whose right-hand matrix acts on [real | imag] column blocks, and one transpose sits between the
 * two sides. The result comes out transposed ([B, W(v), 2, H(u)], real then imag); losses that only average
 * over frequencies use it as is, `magnitudeSpectrum` transposes it back.
 */
import * as tf from '@tensorflow/tfjs-core';
import { matMul2d, safeSqrt } from '../ops';
import { cachedMatrix, dftTables } from './constants';

/** [C | σ·S] on the real input side: [N, 2N]. */
function realStepMatrix(n: number, sign: number): tf.Tensor2D {
  return cachedMatrix(`dft-real:${n}:${sign}`, n, 2 * n, () => {
    const { cos, sin } = dftTables(n);
    const m = new Float64Array(n * 2 * n);
    for (let r = 0; r < n; r++) {
      for (let c = 0; c < n; c++) {
        m[r * 2 * n + c] = cos[r * n + c]!;
        m[r * 2 * n + n + c] = sign * sin[r * n + c]!;
      }
    }
    return m;
  });
}

/** [[C, σS], [-σS, C]]: [P | Q]·M = (P + iQ)·(C + iσS) as [real | imag]; [2N, 2N]. */
function complexStepMatrix(n: number, sign: number): tf.Tensor2D {
  return cachedMatrix(`dft-complex:${n}:${sign}`, 2 * n, 2 * n, () => {
    const { cos, sin } = dftTables(n);
    const m = new Float64Array(4 * n * n);
    const w = 2 * n;
    for (let r = 0; r < n; r++) {
      for (let c = 0; c < n; c++) {
        const cs = cos[r * n + c]!;
        const sn = sin[r * n + c]!;
        m[r * w + c] = cs;
        m[r * w + n + c] = sign * sn;
        m[(n + r) * w + c] = -sign * sn;
        m[(n + r) * w + n + c] = cs;
      }
    }
    return m;
  });
}

/** [B, R, 2, K] -> [B, K, 2, R]: swap the two spatial axes of a [real | imag] block layout. */
function swapAxes(x: tf.Tensor, b: number, rows: number, cols: number): tf.Tensor2D {
  return tf.reshape(tf.transpose(tf.reshape(x, [b, rows, 2, cols]), [0, 3, 2, 1]), [b * cols, 2 * rows]) as tf.Tensor2D;
}

/**
 * Forward orthonormal DFT of real images x [B, H, W] -> [B, W, 2, H]: element [b, v, 0, u] is Re F(u, v),
 * [b, v, 1, u] is Im F(u, v) (transposed spatial order).
 */
export function dft2Transposed(x: tf.Tensor3D): tf.Tensor4D {
  const [b, h, w] = x.shape;
  const step1 = matMul2d(tf.reshape(x, [b * h, w]), realStepMatrix(w, -1)); // rows (b, x), cols (re|im, v)
  const step2 = matMul2d(swapAxes(step1, b, h, w), complexStepMatrix(h, -1)); // rows (b, v), cols (re|im, u)
  return tf.reshape(step2, [b, w, 2, h]);
}

/**
 * Inverse orthonormal DFT of a spectrum in dft2Transposed's layout [B, W, 2, H] -> complex image in normal
 * order [B, H, 2, W] (real, imag along axis 2).
 */
export function idft2FromTransposed(spec: tf.Tensor4D): tf.Tensor4D {
  const [b, w, , h] = spec.shape;
  const step1 = matMul2d(tf.reshape(spec, [b * w, 2 * h]), complexStepMatrix(h, 1)); // rows (b, v), cols (re|im, x)
  const step2 = matMul2d(swapAxes(step1, b, w, h), complexStepMatrix(w, 1)); // rows (b, x), cols (re|im, y)
  return tf.reshape(step2, [b, h, 2, w]);
}

/** |re + i·im| over axis 2 of a [B, R, 2, K] block layout -> [B, R, K]; gradient finite at 0. */
export function blockMagnitude(blocks: tf.Tensor4D): tf.Tensor3D {
  return safeSqrt(tf.sum(tf.square(blocks), 2)) as tf.Tensor3D;
}

function asBatch(images: tf.Tensor4D): tf.Tensor3D {
  const [b, c, h, w] = images.shape;
  if (c !== 1) throw new Error(`expected grey images [B, 1, H, W], got [${images.shape}]`);
  return tf.reshape(images, [b, h, w]);
}

/** Magnitude of the orthonormal 2-D DFT (torch.fft.fft2(x, norm='ortho').abs()) of [B, 1, H, W]. */
export function magnitudeSpectrum(images: tf.Tensor4D): tf.Tensor4D {
  const [b, , h, w] = images.shape;
  return tf.reshape(tf.transpose(blockMagnitude(dft2Transposed(asBatch(images))), [0, 2, 1]), [b, 1, h, w]);
}

/** Magnitude spectrum in transposed order [B, W, H] for losses that average over all frequencies. */
export function magnitudeSpectrumTransposed(images: tf.Tensor4D): tf.Tensor3D {
  return blockMagnitude(dft2Transposed(asBatch(images)));
}

export { asBatch };
