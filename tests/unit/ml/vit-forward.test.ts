import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { loadFixtureVit } from '../../../main/ml/numerics/verify';
import {
  createVit,
  disposeVit,
  encode,
  getStateDict,
  loadStateDict,
  pool,
  relativePositionIndex,
  relativePositionIndexSubset,
  sincosPosEmbed2d,
  StateDictError,
  vitConfig,
  type VitModel,
} from '../../../main/ml/vit';
import { FIXTURES, fixtureTensor, maxAbsDiff, randomTensor, setupWasm } from './numerics-helpers';

let timm: VitModel;
let beit: VitModel;

beforeAll(async () => {
  await setupWasm();
  timm = loadFixtureVit(path.join(FIXTURES, 'vit_timm_weights.safetensors'), 'timm');
  beit = loadFixtureVit(path.join(FIXTURES, 'vit_beit_weights.safetensors'), 'beit');
});

afterAll(() => {
  disposeVit(timm);
  disposeVit(beit);
});

describe('forward passes reproduce the PyTorch fixtures', () => {
  it('timm/MAE layout: normed tokens within 1e-4', () => {
    tf.tidy(() => {
      const tokens = encode(timm, fixtureTensor('vit_timm_io.safetensors', 'input') as tf.Tensor4D);
      expect(tokens.shape).toEqual([2, 50, 192]);
      expect(maxAbsDiff(tokens, fixtureTensor('vit_timm_io.safetensors', 'tokens'))).toBeLessThan(1e-4);
    });
  });

  it('BEiT/USFM layout: last-block tokens and fc_norm(mean) pooled within 1e-4', () => {
    tf.tidy(() => {
      const tokens = encode(beit, fixtureTensor('vit_beit_io.safetensors', 'input') as tf.Tensor4D);
      expect(maxAbsDiff(tokens, fixtureTensor('vit_beit_io.safetensors', 'tokens'))).toBeLessThan(1e-4);
      expect(maxAbsDiff(pool(beit, tokens), fixtureTensor('vit_beit_io.safetensors', 'pooled'))).toBeLessThan(1e-4);
    });
  });

  it('a grey image through the folded 1-channel embedding equals the 3-channel forward on the replicated image', () => {
    tf.tidy(() => {
      const grey = randomTensor([2, 1, 112, 112], 5, 0.5, 0.5) as tf.Tensor4D;
      const rgb = tf.concat([grey, grey, grey], 1) as tf.Tensor4D;
      for (const model of [timm, beit]) expect(maxAbsDiff(encode(model, grey), encode(model, rgb))).toBeLessThan(2e-5);
    });
  });
});

describe('MAE visible tokens and SimMIM mask tokens', () => {
  it('encoding a permutation of all patches permutes the output tokens (positions travel with the patches)', () => {
    tf.tidy(() => {
      const images = fixtureTensor('vit_timm_io.safetensors', 'input') as tf.Tensor4D;
      const perm = [Array.from({ length: 49 }, (_, i) => (i * 5) % 49), Array.from({ length: 49 }, (_, i) => 48 - i)];
      for (const model of [timm, beit]) {
        const full = encode(model, images);
        const visible = encode(model, images, { visibleIdx: perm });
        const expected = tf.stack(perm.map((p, b) => tf.gather(tf.squeeze(tf.slice(full, [b, 0, 0], [1, 50, 192]), [0]), [0, ...p.map((i) => i + 1)])));
        expect(maxAbsDiff(visible, expected)).toBeLessThan(2e-5);
      }
    });
  });

  it('a visible subset only depends on the visible patches', () => {
    tf.tidy(() => {
      const images = fixtureTensor('vit_timm_io.safetensors', 'input') as tf.Tensor4D;
      const keep = [[0, 5, 10, 20, 48], [3, 1, 7, 30, 40]];
      // Changing a patch that is not visible (rows 16-31, cols 16-31 = patch 8) leaves the tokens alone.
      const changed = tf.add(images, tf.pad(tf.ones([2, 3, 16, 16]), [[0, 0], [0, 0], [16, 80], [16, 80]])) as tf.Tensor4D;
      for (const model of [timm, beit]) {
        const a = encode(model, images, { visibleIdx: keep });
        expect(a.shape).toEqual([2, 6, 192]);
        expect(maxAbsDiff(a, encode(model, changed, { visibleIdx: keep }))).toBe(0);
      }
    });
  });

  it('mask tokens replace masked patch embeddings: masked pixels no longer matter', () => {
    const model = createVit(vitConfig({ embedDim: 32, depth: 1, numHeads: 2 }, { layout: 'beit', imgSize: 32, maskToken: true }), { seed: 3 });
    tf.tidy(() => {
      const images = randomTensor([2, 1, 32, 32], 9) as tf.Tensor4D;
      const mask = tf.tensor2d([[0, 1, 0, 0], [1, 1, 0, 1]]);
      const changed = tf.add(images, tf.pad(tf.ones([2, 1, 16, 16]), [[0, 0], [0, 0], [0, 16], [16, 0]])) as tf.Tensor4D; // patch 1
      const a = encode(model, images, { mask });
      expect(maxAbsDiff(a, encode(model, changed, { mask }))).toBe(0);
      expect(maxAbsDiff(encode(model, images, { mask: tf.zeros([2, 4]) }), encode(model, images))).toBe(0);
      expect(maxAbsDiff(a, encode(model, images))).toBeGreaterThan(1e-3);
    });
    disposeVit(model);
  });
});

describe('position encodings', () => {
  it('BEiT relative position index matches the reference construction', () => {
    const idx = relativePositionIndex(2); // R = 9 + 3 = 12
    expect(Array.from(idx)).toEqual([11, 9, 9, 9, 9, 10, 4, 3, 1, 0, 10, 5, 4, 2, 1, 10, 7, 6, 4, 3, 10, 8, 7, 5, 4]);
    const sub = relativePositionIndexSubset(2, [[3, 0]]);
    expect(Array.from(sub)).toEqual([11, 9, 9, 10, 4, 8, 10, 0, 4]);
  });

  it('MAE sin-cos table: CLS row zero, first half encodes the column, second half the row', () => {
    const t = sincosPosEmbed2d(8, 2, true);
    expect(Array.from(t.slice(0, 8))).toEqual(new Array(8).fill(0));
    // patch (row 1, col 0) = index 3 row in the table: sin(0)=0, cos(0)=1 for the column half.
    const p = t.slice(3 * 8, 4 * 8);
    expect(p[0]).toBeCloseTo(0, 7);
    expect(p[2]).toBeCloseTo(1, 7);
    expect(p[4]).toBeCloseTo(Math.sin(1), 6);
    expect(p[6]).toBeCloseTo(Math.cos(1), 6);
    expect(p[5]).toBeCloseTo(Math.sin(1 / 100), 6);
  });
});

describe('state dicts in PyTorch names and shapes', () => {
  it('exports every parameter with PyTorch shapes and loads it back into a fresh model', () => {
    const state = getStateDict(beit);
    expect(state.get('patch_embed.proj.weight')!.shape).toEqual([192, 3, 16, 16]);
    expect(state.get('blocks.0.attn.qkv.weight')!.shape).toEqual([576, 192]);
    expect(state.get('blocks.3.mlp.fc1.weight')!.shape).toEqual([768, 192]);
    expect(state.get('rel_pos_bias.relative_position_bias_table')!.shape).toEqual([172, 3]);
    expect(state.has('blocks.0.attn.qkv.bias')).toBe(false);
    const fresh = createVit(beit.config, { seed: 123 });
    const withBuffer = new Map(state);
    withBuffer.set('rel_pos_bias.relative_position_index', { shape: [50, 50], data: new Float32Array(2500) });
    expect(loadStateDict(fresh, withBuffer)).toEqual({ missing: [], unexpected: [] });
    tf.tidy(() => {
      const x = fixtureTensor('vit_beit_io.safetensors', 'input') as tf.Tensor4D;
      expect(maxAbsDiff(encode(fresh, x), encode(beit, x))).toBe(0);
    });
    disposeVit(fresh);
  });

  it('reports missing and unexpected keys (strict throws), rejects shape mismatches', () => {
    const model = createVit(vitConfig({ embedDim: 32, depth: 1, numHeads: 2 }, { imgSize: 32 }), { seed: 1 });
    const state = getStateDict(model);
    const partial = new Map(state);
    partial.delete('norm.weight');
    partial.set('head.weight', { shape: [2, 32], data: new Float32Array(64) });
    expect(() => loadStateDict(model, partial)).toThrow(StateDictError);
    expect(loadStateDict(model, partial, { strict: false })).toEqual({ missing: ['norm.weight'], unexpected: ['head.weight'] });
    const wrong = new Map(state);
    wrong.set('blocks.0.attn.qkv.weight', { shape: [32, 96], data: new Float32Array(32 * 96) });
    expect(() => loadStateDict(model, wrong, { strict: false })).toThrow(/shapes do not match/);
    disposeVit(model);
  });

  it('initialises as MAE / BEiT: fixed sin-cos pos_embed, xavier Linear, gamma 0.1, zero biases', () => {
    const mae = createVit(vitConfig({ embedDim: 64, depth: 2, numHeads: 2 }, { imgSize: 32 }), { seed: 1 });
    expect(mae.params.get('pos_embed')!.trainable).toBe(false);
    expect(maxAbsDiff(mae.params.get('pos_embed')!, sincosPosEmbed2d(64, 2, true))).toBe(0);
    const w = mae.params.get('blocks.0.mlp.fc1.weight')!.dataSync();
    const bound = Math.sqrt(6 / (64 + 256));
    expect(Math.max(...w.map(Math.abs))).toBeLessThanOrEqual(bound);
    expect(Math.max(...w.map(Math.abs))).toBeGreaterThan(0.9 * bound);
    expect(Math.max(...mae.params.get('blocks.0.mlp.fc1.bias')!.dataSync().map(Math.abs))).toBe(0);
    const b = createVit(vitConfig({ embedDim: 64, depth: 2, numHeads: 2 }, { layout: 'beit', imgSize: 32 }), { seed: 1 });
    expect(Array.from(new Set(b.params.get('blocks.1.gamma_2')!.dataSync()))).toEqual([expect.closeTo(0.1, 7)]);
    const q = Array.from(b.params.get('blocks.0.attn.qkv.weight')!.dataSync());
    const std = Math.sqrt(q.reduce((s, v) => s + v * v, 0) / q.length);
    expect(std).toBeGreaterThan(0.018);
    expect(std).toBeLessThan(0.022);
    expect(b.params.has('fc_norm.weight')).toBe(true);
    expect(b.params.has('norm.weight')).toBe(false);
    disposeVit(mae);
    disposeVit(b);
  });
});
