/**
 * Images <-> patch vectors. Images are NCHW [B, C, H, W] (C = 1 grey or 3); patches [B, N, P] with N row-major.
 * Two vector orders exist in the PyTorch code: the patch-embedding conv weight [D, C, p, p] flattens as
 * (channel, row, col) = 'chw'; MAE's patchify (loss targets, decoder outputs) uses (row, col, channel) = 'hwc'.
 * Both are one reshape-transpose-reshape (differentiable; transposes only).
 */
import * as tf from '@tensorflow/tfjs-core';

export type PatchOrder = 'chw' | 'hwc';

export function patchify(images: tf.Tensor4D, patch: number, order: PatchOrder): tf.Tensor3D {
  const [b, c, h, w] = images.shape;
  if (h % patch !== 0 || w % patch !== 0) throw new Error(`patchify: image ${h}x${w} is not a multiple of ${patch}`);
  const gh = h / patch;
  const gw = w / patch;
  return tf.tidy(() => {
    const six = tf.reshape(images, [b, c, gh, patch, gw, patch]);
    const perm = order === 'chw' ? [0, 2, 4, 1, 3, 5] : [0, 2, 4, 3, 5, 1];
    return tf.reshape(tf.transpose(six, perm), [b, gh * gw, c * patch * patch]);
  });
}

/** Inverse of patchify: [B, N, P] -> [B, C, H, W] for a gh x gw grid (square by default). */
export function unpatchify(patches: tf.Tensor3D, patch: number, channels: number, order: PatchOrder, grid?: [number, number]): tf.Tensor4D {
  const [b, n, p] = patches.shape;
  if (p !== channels * patch * patch) throw new Error(`unpatchify: patch vectors of ${p} values do not fit ${channels}x${patch}x${patch}`);
  const [gh, gw] = grid ?? [Math.round(Math.sqrt(n)), Math.round(Math.sqrt(n))];
  if (gh * gw !== n) throw new Error(`unpatchify: ${n} patches do not form a ${gh}x${gw} grid`);
  return tf.tidy(() => {
    if (order === 'chw') {
      const six = tf.reshape(patches, [b, gh, gw, channels, patch, patch]);
      return tf.reshape(tf.transpose(six, [0, 3, 1, 4, 2, 5]), [b, channels, gh * patch, gw * patch]);
    }
    const six = tf.reshape(patches, [b, gh, gw, patch, patch, channels]);
    return tf.reshape(tf.transpose(six, [0, 5, 1, 3, 2, 4]), [b, channels, gh * patch, gw * patch]);
  });
}

/** Expands a per-patch mask [B, N] to pixels [B, 1, H, W] (1 where the patch is masked), by broadcasting. */
export function patchMaskToPixels(mask: tf.Tensor2D, patch: number, grid?: [number, number]): tf.Tensor4D {
  const [b, n] = mask.shape;
  const [gh, gw] = grid ?? [Math.round(Math.sqrt(n)), Math.round(Math.sqrt(n))];
  return tf.tidy(() => {
    const expanded = tf.mul(tf.reshape(mask, [b, gh, 1, gw, 1]), tf.ones([1, 1, patch, 1, patch]));
    return tf.reshape(expanded, [b, 1, gh * patch, gw * patch]);
  });
}
