/**
 * The loss of each recipe on one micro-batch, as a function of the model's parameters (run inside
 * tf.variableGrads), plus the tensors a preview needs.
 */
import * as tf from '@tensorflow/tfjs-core';
import { freqL2PerImage, lsdPerImage, maeLoss, ssimPerImage, USFM_PLUS_LAMBDAS } from '../losses';
import { patchify, unpatchify } from '../vit';
import type { RandomSource } from '../vit';
import type { BatchMask } from './masking';
import { encode, linearHead, maeDecode, type PretrainModel } from './model';
import { INPUT_MEAN, INPUT_STD } from './recipes';

export interface ObjectiveInputs {
  /** Original grey images [B, 1, S, S] in [0, 1] (the targets). */
  images: tf.Tensor4D;
  /** USFM / USFM+: the filled encoder input [B, 1, S, S] in [0, 1]. MAE: unused (the images are). */
  corrupted: tf.Tensor4D | null;
  mask: BatchMask;
  /** [B, N] 1 where a patch is masked (token fill and compositing). */
  maskedPatches: tf.Tensor2D;
  /** [B, N] 1 where a patch counts in the loss. */
  lossPatches: tf.Tensor2D;
  /** Pixel versions [B, 1, S, S] of the two masks. */
  maskedPixels: tf.Tensor4D;
  lossPixels: tf.Tensor4D;
}

export interface ObjectiveSettings {
  alpha: number;
  training: boolean;
  dropPathRng?: RandomSource;
}

export interface ObjectiveResult {
  loss: tf.Scalar;
  /** Batch means of each term, for progress and the loss curve. */
  terms: Record<string, tf.Scalar>;
  /** [B, 1, S, S] reconstruction in [0, 1] shown in previews (visible pixels from the input). */
  reconstruction?: tf.Tensor4D;
}

function normalise(x: tf.Tensor4D): tf.Tensor4D {
  return tf.div(tf.sub(x, INPUT_MEAN), INPUT_STD) as tf.Tensor4D;
}

/** Mean absolute error over the weighted pixels of each image [B]: Σ w·|a − b| / (Σ w + 1e-5). */
export function weightedL1PerImage(a: tf.Tensor4D, b: tf.Tensor4D, weight: tf.Tensor4D): tf.Tensor1D {
  const total = tf.sum(tf.mul(tf.abs(tf.sub(a, b)), weight), [1, 2, 3]);
  return tf.div(total, tf.add(tf.sum(weight, [1, 2, 3]), 1e-5)) as tf.Tensor1D;
}

/** MAE prediction (normalised pixels) mapped back to intensities with each target patch's mean and std, for previews. */
function maeReconstruction(pred: tf.Tensor3D, inputs: ObjectiveInputs): tf.Tensor4D {
  const [b, , s] = inputs.images.shape;
  const targetPatches = patchify(inputs.images, 16, 'hwc');
  const mean = tf.mean(targetPatches, -1, true);
  const variance = tf.div(tf.sum(tf.square(tf.sub(targetPatches, mean)), -1, true), pred.shape[2] - 1);
  const pixels = tf.add(tf.mul(pred, tf.sqrt(tf.add(variance, 1e-6))), mean) as tf.Tensor3D;
  const image = unpatchify(pixels, 16, 1, 'hwc');
  return tf.reshape(tf.add(inputs.images, tf.mul(inputs.maskedPixels, tf.sub(image, inputs.images))), [b, 1, s, s]) as tf.Tensor4D;
}

export function recipeObjective(model: PretrainModel, inputs: ObjectiveInputs, settings: ObjectiveSettings, withReconstruction = false): ObjectiveResult {
  const recipe = model.config.recipe;
  const { images, mask } = inputs;
  const batch = images.shape[0];
  if (recipe === 'mae') {
    const k = mask.visibleCount;
    const visibleIdx = Array.from({ length: batch }, (_, b) => mask.visible!.subarray(b * k, (b + 1) * k));
    const latent = encode(model.encoder, normalise(images), { training: settings.training, rng: settings.dropPathRng, visibleIdx });
    const pred = maeDecode(model, latent, mask.visible!);
    const loss = maeLoss(pred, images, inputs.lossPatches);
    return { loss, terms: { mse: loss }, reconstruction: withReconstruction ? maeReconstruction(pred, inputs) : undefined };
  }
  const tokens = encode(model.encoder, normalise(inputs.corrupted!), {
    training: settings.training,
    rng: settings.dropPathRng,
    mask: model.config.fill === 'token' ? inputs.maskedPatches : undefined,
  });
  const pred = unpatchify(linearHead(model, tokens), 16, 1, 'hwc');
  // Visible pixels from the input, masked pixels from the prediction.
  const composite = tf.add(images, tf.mul(inputs.maskedPixels, tf.sub(pred, images))) as tf.Tensor4D;
  const l1 = weightedL1PerImage(pred, images, inputs.lossPixels);
  if (recipe === 'usfm') {
    const freq = freqL2PerImage(composite, images);
    const loss = tf.mean(tf.add(l1, tf.mul(freq, settings.alpha))) as tf.Scalar;
    return { loss, terms: { l1: tf.mean(l1) as tf.Scalar, freq: tf.mean(freq) as tf.Scalar }, reconstruction: withReconstruction ? composite : undefined };
  }
  const ssim = ssimPerImage(composite, images);
  const lsd = lsdPerImage(composite, images);
  const lam = USFM_PLUS_LAMBDAS;
  const perImage = tf.addN([tf.mul(tf.sub(1, ssim), lam.ssim), tf.mul(l1, lam.l1), tf.mul(lsd, lam.lsd)]);
  return {
    loss: tf.mean(perImage) as tf.Scalar,
    terms: { ssim: tf.mean(ssim) as tf.Scalar, l1: tf.mean(l1) as tf.Scalar, lsd: tf.mean(lsd) as tf.Scalar },
    reconstruction: withReconstruction ? composite : undefined,
  };
}
