/**
 * Every loss term of every recipe, differentiated through a small ViT on the WASM backend, against
 * central finite differences along a random direction of all trainable parameters.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { prepareTrainingBackend } from '../../../main/ml/train/backend-setup';
import {
  createPretrainModel,
  disposePretrainModel,
  trainableOf,
  type FillMode,
  type Recipe,
} from '../../../main/ml/pretrain/model';
import { prepareBatch, type HostBatch } from '../../../main/ml/pretrain/batch';
import { recipeObjective } from '../../../main/ml/pretrain/objective';
import { Rng } from '../../../main/ml/train/rng';

const SIZE = 64;
const BATCH = 2;

function smoothImages(seed: number): Float32Array {
  const rng = Rng.stream(seed, 'images');
  const out = new Float32Array(BATCH * SIZE * SIZE);
  for (let b = 0; b < BATCH; b++) {
    const fx = rng.range(0.05, 0.3);
    const fy = rng.range(0.05, 0.3);
    const phase = rng.range(0, 6);
    for (let y = 0; y < SIZE; y++) {
      for (let x = 0; x < SIZE; x++)
        out[(b * SIZE + y) * SIZE + x] =
          0.5 + 0.3 * Math.sin(fx * x + phase) * Math.cos(fy * y) + 0.05 * rng.normal();
    }
  }
  return out;
}

function coneMask(): Float32Array {
  // A sector-like region: the lower part of a disc centred above the image.
  const m = new Float32Array(SIZE * SIZE);
  for (let y = 0; y < SIZE; y++)
    for (let x = 0; x < SIZE; x++) m[y * SIZE + x] = Math.hypot(x - SIZE / 2, y + 8) < SIZE ? 1 : 0;
  return m;
}

interface Case {
  recipe: Recipe;
  fill: FillMode;
  terms: string[];
}

const CASES: Case[] = [
  { recipe: 'mae', fill: 'token', terms: ['mse'] },
  { recipe: 'usfm', fill: 'token', terms: ['l1', 'freq', 'total'] },
  { recipe: 'usfm', fill: 'frequency', terms: ['total'] },
  { recipe: 'usfm-plus', fill: 'frequency', terms: ['ssim', 'l1', 'lsd', 'total'] },
];

beforeAll(async () => {
  await prepareTrainingBackend({ backend: 'wasm' });
});

describe('loss gradients match finite differences', () => {
  for (const c of CASES) {
    it(`${c.recipe} (${c.fill} fill): ${c.terms.join(', ')}`, () => {
      const model = createPretrainModel(
        {
          recipe: c.recipe,
          size: 'tiny',
          imgSize: SIZE,
          layout: c.recipe === 'mae' ? 'timm' : 'beit',
          fill: c.fill,
          dropPathRate: 0,
          decoder: { dim: 16, depth: 1, heads: 2 },
          dims: { embedDim: 32, depth: 2, numHeads: 2 },
        },
        7,
      );
      const trainable = trainableOf(model);
      const host: HostBatch = {
        batch: BATCH,
        size: SIZE,
        pixels: smoothImages(3),
        cones: [coneMask(), null],
        itemIds: ['a', 'b'],
      };
      const batch = prepareBatch(Rng.stream(1, 'mask'), host, {
        recipe: c.recipe,
        maskRatio: c.recipe === 'mae' ? 0.75 : 0.6,
        maskBlockPixels: 32,
        coneAware: true,
        fill: c.fill,
        stoppedBandFraction: 0.5,
      });
      // Larger-than-init weights so every path (attention, layer scale, heads) carries signal.
      tf.tidy(() => {
        for (const [name, v] of trainable) if (name.includes('gamma')) v.assign(tf.fill(v.shape, 0.5));
      });
      const evaluate = (term: string): tf.Scalar => {
        const out = recipeObjective(model, batch.inputs, { alpha: 0.7, training: false });
        return term === 'total' ? out.loss : out.terms[term]!;
      };
      const direction = new Map(
        [...trainable].map(([name, v]) => [
          name,
          tf.keep(tf.randomNormal(v.shape, 0, 1, 'float32', name.length * 31 + 5)),
        ]),
      );
      try {
        for (const term of c.terms) {
          const { grads, value } = tf.variableGrads(() => evaluate(term), [...trainable.values()]);
          value.dispose();
          // Parameters the recipe never uses (the pooling norm in pretraining) get no gradient at all.
          const connected = [...trainable].filter(([, v]) => grads[v.name]);
          const analytic = tf.tidy(() =>
            connected.reduce(
              (acc, [name, v]) => acc + tf.sum(tf.mul(grads[v.name]!, direction.get(name)!)).dataSync()[0]!,
              0,
            ),
          );
          const nonZero = connected.filter(
            ([, v]) => tf.tidy(() => tf.max(tf.abs(grads[v.name]!)).dataSync()[0]!) > 0,
          ).length;
          Object.values(grads).forEach((g) => g.dispose());
          // LSD (log of small spectral magnitudes) is strongly curved: a shorter step keeps it in its linear range.
          const eps = term === 'lsd' || (c.recipe === 'usfm-plus' && term === 'total') ? 1e-4 : 4e-4;
          const shifted = (h: number, sign: number): number =>
            tf.tidy(() => {
              for (const [name, v] of trainable) v.assign(tf.add(v, tf.mul(direction.get(name)!, sign * h)));
              const f = evaluate(term).dataSync()[0]!;
              for (const [name, v] of trainable) v.assign(tf.sub(v, tf.mul(direction.get(name)!, sign * h)));
              return f;
            });
          const central = (h: number): number => (shifted(h, 1) - shifted(h, -1)) / (2 * h);
          // Richardson extrapolation cancels the h² term of the central difference (LSD is strongly curved).
          const numeric = (4 * central(eps / 2) - central(eps)) / 3;
          expect(Number.isFinite(analytic)).toBe(true);
          expect(
            Math.abs(analytic - numeric),
            `${term}: analytic ${analytic} vs numeric ${numeric}`,
          ).toBeLessThan(0.08 * Math.abs(numeric) + 5e-4);
          // The loss depends on most parameters (a few may get exactly nothing, e.g. unused tokens).
          expect(nonZero).toBeGreaterThan(trainable.size * 0.8);
        }
      } finally {
        direction.forEach((d) => d.dispose());
        batch.dispose();
        disposePretrainModel(model);
      }
    });
  }
});
