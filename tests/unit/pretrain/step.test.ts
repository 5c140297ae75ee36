/**
 * The optimizer step: gradient accumulation over micro-batches equals one pass over the whole batch,
 * a non-finite loss applies nothing, and the live tensor count does not grow.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { prepareTrainingBackend } from '../../../main/ml/train/backend-setup';
import { AdamW } from '../../../main/ml/train/adamw';
import { Rng } from '../../../main/ml/train/rng';
import {
  drawMask,
  prepareBatch,
  type HostBatch,
  type MaskingSettings,
} from '../../../main/ml/pretrain/batch';
import { createPretrainModel, trainableOf } from '../../../main/ml/pretrain/model';
import {
  GradientAccumulator,
  lossAndGradients,
  NonFiniteLossError,
  optimizerStep,
} from '../../../main/ml/pretrain/step';
import type { BatchMask } from '../../../main/ml/pretrain/masking';

const SIZE = 64;
const settings: MaskingSettings = {
  recipe: 'usfm',
  maskRatio: 0.6,
  maskBlockPixels: 32,
  coneAware: false,
  fill: 'mean',
  stoppedBandFraction: 0.5,
};

function host(batch: number, seed: number, poison = false): HostBatch {
  const r = Rng.stream(seed, 'pixels');
  const pixels = Float32Array.from({ length: batch * SIZE * SIZE }, () => r.uniform());
  if (poison) pixels[5] = Number.NaN;
  return { batch, size: SIZE, pixels, cones: Array(batch).fill(null), itemIds: [] };
}

/** Rows [from, to) of a batch mask. */
function sliceMask(m: BatchMask, from: number, to: number): BatchMask {
  const n = m.grid * m.grid;
  return {
    ...m,
    batch: to - from,
    masked: m.masked.slice(from * n, to * n),
    lossWeight: m.lossWeight.slice(from * n, to * n),
  };
}

function smallModel() {
  return createPretrainModel(
    {
      recipe: 'usfm',
      size: 'tiny',
      imgSize: SIZE,
      layout: 'beit',
      fill: 'mean',
      dropPathRate: 0,
      decoder: null,
      dims: { embedDim: 32, depth: 2, numHeads: 2 },
    },
    4,
  );
}

beforeAll(async () => {
  await prepareTrainingBackend({ backend: 'wasm' });
});

describe('optimizer step', () => {
  it('accumulating two micro-batches gives the gradient of the whole batch', () => {
    const model = smallModel();
    const trainable = trainableOf(model);
    const whole = host(4, 1);
    const mask = drawMask(Rng.stream(2, 'mask'), whole, settings);
    const full = prepareBatch(Rng.stream(3, 'b'), whole, settings, mask);
    const reference = lossAndGradients(model, trainable, full, { alpha: 1, training: false });
    full.dispose();
    const acc = new GradientAccumulator();
    let loss = 0;
    for (const [from, to] of [
      [0, 2],
      [2, 4],
    ] as const) {
      const part: HostBatch = {
        ...whole,
        batch: 2,
        pixels: whole.pixels.slice(from * SIZE * SIZE, to * SIZE * SIZE),
        cones: [null, null],
      };
      const prepared = prepareBatch(Rng.stream(3, 'b'), part, settings, sliceMask(mask, from, to));
      const out = lossAndGradients(model, trainable, prepared, { alpha: 1, training: false });
      prepared.dispose();
      acc.add(out.grads, 0.5);
      loss += out.loss * 0.5;
    }
    const summed = acc.take();
    expect(loss).toBeCloseTo(reference.loss, 5);
    for (const [name, g] of reference.grads) {
      const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(g, summed.get(name)!))).dataSync()[0]!);
      const scale = tf.tidy(() => tf.max(tf.abs(g)).dataSync()[0]!);
      expect(diff, name).toBeLessThanOrEqual(1e-4 * Math.max(1, scale));
    }
    [...reference.grads.values(), ...summed.values()].forEach((t) => t.dispose());
  });

  it('applies nothing when the loss is not finite, and leaks no tensor either way', async () => {
    const model = smallModel();
    const trainable = trainableOf(model);
    const adam = new AdamW(trainable, { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.05 });
    const micro = (h: HostBatch) =>
      (async function* () {
        yield {
          batch: prepareBatch(Rng.stream(1, 'm'), h, settings),
          size: h.batch,
          settings: { alpha: 1, training: true },
        };
      })();
    await optimizerStep(model, trainable, adam, micro(host(2, 1)), 2, 1e-3, 1);
    const count = tf.memory().numTensors;
    await optimizerStep(model, trainable, adam, micro(host(2, 2)), 2, 1e-3, 1);
    expect(tf.memory().numTensors).toBe(count);
    const before = trainable.get('decoder_pred.weight')!.dataSync().slice();
    await expect(
      optimizerStep(model, trainable, adam, micro(host(2, 3, true)), 2, 1e-3, 1),
    ).rejects.toBeInstanceOf(NonFiniteLossError);
    expect(Array.from(trainable.get('decoder_pred.weight')!.dataSync())).toEqual(Array.from(before));
    expect(adam.step).toBe(2);
    expect(tf.memory().numTensors).toBe(count);
  });
});
