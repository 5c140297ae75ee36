import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { createVit, disposeVit, encode, pool, trainableParams, vitConfig, type EncodeOptions, type VitLayout, type VitModel } from '../../../main/ml/vit';
import { directionalCheck, gradientDirectionCheck, randomTensor, setupWasm } from './numerics-helpers';

beforeAll(setupWasm);

/** 2 blocks, 32 dims, 2 heads, 32x32 images (4 patches); learned positions so every parameter is trained. */
function tinyModel(layout: VitLayout, extra: Partial<Parameters<typeof vitConfig>[1]> = {}): VitModel {
  const model = createVit(vitConfig({ embedDim: 32, depth: 2, numHeads: 2 }, { layout, imgSize: 32, posEmbed: 'learned', maskToken: true, layerScaleInit: 1, ...extra }), { seed: 11 });
  // Non-trivial values everywhere (zero biases and tables would hide layout mistakes).
  for (const [name, v] of model.params) {
    if (name.endsWith('bias') || name.includes('relative_position') || name === 'mask_token') v.assign(randomTensor(v.shape, name.length * 7, 0.3));
  }
  return model;
}

/** A linear read-out of tokens and pooled features: |f| stays O(1), so float32 roundoff of f stays small. */
function lossFn(model: VitModel, images: tf.Tensor4D, weights: tf.Tensor, options: EncodeOptions = {}): () => tf.Scalar {
  const pooledWeights = randomTensor([weights.shape[0]!, weights.shape[2]!], 77, 0.1);
  return () => {
    const tokens = encode(model, images, options);
    const pooled = pool(model, tokens);
    return tf.add(tf.sum(tf.mul(tokens, tf.mul(weights, 0.1))), tf.sum(tf.mul(pooled, pooledWeights))) as tf.Scalar;
  };
}

describe('ViT gradients against central finite differences', () => {
  for (const layout of ['timm', 'beit'] as const) {
    it(`${layout} layout: every parameter, full image, grey input`, () => {
      const model = tinyModel(layout);
      const images = randomTensor([2, 1, 32, 32], 3, 0.5, 0.5) as tf.Tensor4D;
      const weights = randomTensor([2, 5, 32], 4);
      const params = [...trainableParams(model).entries()].filter(([n]) => n !== 'mask_token');
      // Each parameter on its own (a wrong gradient cannot hide behind another), then all together.
      for (const [name, v] of params) {
        const check = gradientDirectionCheck(lossFn(model, images, weights), v);
        expect(check.relErr, `${name}: analytic ${check.analytic} vs numeric ${check.numeric}`).toBeLessThan(2e-2);
      }
      const all = directionalCheck(lossFn(model, images, weights), params.map(([, v]) => v), 1e-3);
      expect(all.relErr).toBeLessThan(2e-2);
      tf.dispose([images, weights]);
      disposeVit(model);
    });

    it(`${layout} layout: MAE visible tokens and SimMIM mask tokens`, () => {
      const model = tinyModel(layout);
      const images = randomTensor([2, 3, 32, 32], 5, 0.5, 0.5) as tf.Tensor4D;
      const vars = [...trainableParams(model).values()];
      const visible = directionalCheck(lossFn(model, images, randomTensor([2, 3, 32], 6), { visibleIdx: [[3, 1], [0, 2]] }), vars, 1e-3);
      expect(visible.relErr).toBeLessThan(2e-2);
      const mask = tf.tensor2d([[1, 0, 0, 1], [0, 1, 1, 0]]);
      const masked = directionalCheck(lossFn(model, images, randomTensor([2, 5, 32], 8), { mask }), vars, 1e-3);
      expect(masked.relErr).toBeLessThan(2e-2);
      // The parameters specific to each mode, along their gradients.
      for (const name of ['mask_token', layout === 'timm' ? 'pos_embed' : 'rel_pos_bias.relative_position_bias_table']) {
        const opts = name === 'mask_token' ? { mask } : { visibleIdx: [[3, 1], [0, 2]] };
        const check = gradientDirectionCheck(lossFn(model, images, randomTensor(name === 'mask_token' ? [2, 5, 32] : [2, 3, 32], 10), opts), model.params.get(name)!);
        expect(check.relErr, `${name}: ${check.analytic} vs ${check.numeric}`).toBeLessThan(2e-2);
      }
      tf.dispose([images, mask]);
      disposeVit(model);
    });
  }
});

describe('training-mode behaviour and tensor hygiene', () => {
  it('drop path is off in evaluation, per-sample and seeded in training', () => {
    const model = tinyModel('timm', { dropPathRate: 0.5 });
    tf.tidy(() => {
      const images = randomTensor([4, 1, 32, 32], 9) as tf.Tensor4D;
      const evalA = encode(model, images).dataSync();
      const evalB = encode(model, images, { training: false }).dataSync();
      expect(Array.from(evalA)).toEqual(Array.from(evalB));
      let calls = 0;
      const fixed = { uniform: () => [0.9, 0.1, 0.9, 0.9][calls++ % 4]!, normal: () => 0 }; // sample 1 drops
      const train = encode(model, images, { training: true, rng: fixed });
      expect(train.shape).toEqual([4, 5, 32]);
      const trained = train.dataSync();
      // Samples whose draws keep every block differ from eval only by the 1/keep scaling; the dropped one differs more.
      expect(Array.from(trained).some((v, i) => Math.abs(v - evalA[i]!) > 1e-4)).toBe(true);
    });
    disposeVit(model);
  });

  it('repeated forward/backward steps leave the tensor count unchanged', () => {
    for (const layout of ['timm', 'beit'] as const) {
      const model = tinyModel(layout, { dropPathRate: 0.1 });
      const vars = [...trainableParams(model).values()];
      const images = randomTensor([2, 1, 32, 32], 12) as tf.Tensor4D;
      const mask = tf.tensor2d([[1, 0, 0, 1], [0, 1, 1, 0]]);
      const step = (options: EncodeOptions) => {
        const { value, grads } = tf.variableGrads(() => tf.mean(tf.square(encode(model, images, { training: true, ...options }))) as tf.Scalar, vars);
        value.dataSync();
        tf.dispose([value, ...Object.values(grads)]);
      };
      const round = () => {
        step({});
        step({ visibleIdx: [[0, 3], [2, 1]] });
        step({ mask });
        tf.tidy(() => pool(model, encode(model, images))).dispose();
      };
      round();
      const before = tf.memory().numTensors;
      for (let i = 0; i < 3; i++) round();
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([images, mask]);
      disposeVit(model);
    }
  });
});
