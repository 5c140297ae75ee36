/**
 * One micro-batch from host pixels to device tensors: masks (recipe masking, cone-aware when cones exist),
 * the filled encoder input for USFM / USFM+, and the mask tensors the objective needs.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '../train/rng';
import { drawStoppedBands, bandStopMasks, fillMasked } from './corruption';
import { blockMask, eligiblePatches, maeMask, PATCH, type BatchMask } from './masking';
import type { ObjectiveInputs } from './objective';
import type { FillMode, Recipe } from './model';

/** Augmented grey images on the host: [B·S·S] in [0, 1], with their cone masks after the same crop. */
export interface HostBatch {
  batch: number;
  size: number;
  pixels: Float32Array;
  cones: (Float32Array | null)[];
  /** Catalog item ids, for previews and debugging. */
  itemIds: string[];
}

export interface MaskingSettings {
  recipe: Recipe;
  maskRatio: number;
  maskBlockPixels: number;
  coneAware: boolean;
  fill: FillMode;
  stoppedBandFraction: number;
}

export interface PreparedBatch {
  inputs: ObjectiveInputs;
  stoppedBands: number[][] | null;
  dispose(): void;
}

export function drawMask(rng: Rng, host: HostBatch, settings: MaskingSettings): BatchMask {
  const grid = Math.floor(host.size / PATCH);
  const eligible = host.cones.map((cone) => {
    const e = eligiblePatches(settings.coneAware ? cone : null, host.size);
    // A crop that missed the cone entirely: every patch counts rather than none (no loss would be 0/0).
    return e.some((v) => v === 1) ? e : e.fill(1);
  });
  return settings.recipe === 'mae'
    ? maeMask(rng, eligible, grid, settings.maskRatio)
    : blockMask(rng, eligible, grid, settings.maskRatio, settings.maskBlockPixels, settings.coneAware && host.cones.some((c) => c !== null));
}

/** Device tensors for one micro-batch; `dispose()` frees all of them. */
export function prepareBatch(rng: Rng, host: HostBatch, settings: MaskingSettings, mask: BatchMask = drawMask(rng, host, settings)): PreparedBatch {
  const { batch, size } = host;
  const n = mask.grid * mask.grid;
  const stoppedBands = settings.recipe !== 'mae' && settings.fill === 'frequency' ? drawStoppedBands(rng, batch, size, settings.stoppedBandFraction) : null;
  const tensors = tf.tidy(() => {
    const images = tf.tensor4d(host.pixels, [batch, 1, size, size]);
    const maskedPatches = tf.tensor2d(Float32Array.from(mask.masked), [batch, n]);
    const lossPatches = tf.tensor2d(mask.lossWeight, [batch, n]);
    const toPixels = (m: tf.Tensor2D): tf.Tensor4D => {
      const g = mask.grid;
      return tf.reshape(tf.mul(tf.reshape(m, [batch, g, 1, g, 1]), tf.ones([1, 1, PATCH, 1, PATCH])), [batch, 1, size, size]) as tf.Tensor4D;
    };
    const maskedPixels = toPixels(maskedPatches);
    const lossPixels = toPixels(lossPatches);
    return { images, maskedPatches, lossPatches, maskedPixels, lossPixels };
  }) as Omit<ObjectiveInputs, 'mask' | 'corrupted'>;
  const corrupted = settings.recipe === 'mae' ? null : fillMasked(tensors.images, tensors.maskedPixels, settings.fill, stoppedBands ? bandStopMasks(size, stoppedBands) : null);
  const inputs: ObjectiveInputs = { ...tensors, corrupted, mask };
  return {
    inputs,
    stoppedBands,
    dispose() {
      for (const t of [tensors.images, tensors.maskedPatches, tensors.lossPatches, tensors.maskedPixels, tensors.lossPixels, corrupted]) t?.dispose();
    },
  };
}
