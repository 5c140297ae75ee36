import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { AdamW } from '../../../main/ml/train/adamw';
import { augment, randomResizedCropBox, resizeCrop } from '../../../main/ml/train/augment';
import { clipByGlobalNorm } from '../../../main/ml/train/clip';
import { decays } from '../../../main/ml/train/params';
import { Rng } from '../../../main/ml/train/rng';
import { learningRate, scaledLr } from '../../../main/ml/train/schedule';

describe('seeded randomness', () => {
  it('gives the same stream for the same (seed, purpose, counter) and different ones otherwise', () => {
    const draw = (r: Rng) => Array.from({ length: 5 }, () => r.nextUint32());
    expect(draw(Rng.stream(7, 'augment', 3))).toEqual(draw(Rng.stream(7, 'augment', 3)));
    expect(draw(Rng.stream(7, 'augment', 3))).not.toEqual(draw(Rng.stream(7, 'augment', 4)));
    expect(draw(Rng.stream(7, 'augment', 3))).not.toEqual(draw(Rng.stream(8, 'augment', 3)));
    expect(draw(Rng.stream(7, 'augment', 3))).not.toEqual(draw(Rng.stream(7, 'mask', 3)));
    const r = Rng.stream(1, 'stats');
    const xs = Array.from({ length: 20000 }, () => r.normal());
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    const variance = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length;
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(Math.abs(variance - 1)).toBeLessThan(0.05);
  });
});

describe('learning-rate schedule', () => {
  it('scales by batch/256, warms up linearly, then decays by a cosine to the floor', () => {
    expect(scaledLr(1.5e-4, 4096)).toBeCloseTo(2.4e-3, 10);
    const s = { peakLr: 1, minLr: 0.1, warmupSteps: 10, totalSteps: 110 };
    expect(learningRate(s, 0)).toBeCloseTo(0.1);
    expect(learningRate(s, 9)).toBeCloseTo(1);
    expect(learningRate(s, 10)).toBeCloseTo(1);
    expect(learningRate(s, 60)).toBeCloseTo(0.55);
    expect(learningRate(s, 110)).toBeCloseTo(0.1);
    for (let i = 11; i < 110; i++) expect(learningRate(s, i)).toBeLessThanOrEqual(learningRate(s, i - 1));
  });
});

describe('AdamW', () => {
  it('matches torch.optim.AdamW step for step, with no decay on biases, norms, tokens and layer scales', async () => {
    await tf.setBackend('cpu');
    expect(decays('blocks.0.attn.qkv.weight', [9, 3])).toBe(true);
    for (const [name, shape] of [
      ['blocks.0.attn.qkv.bias', [9]],
      ['blocks.0.norm1.weight', [3]],
      ['cls_token', [1, 1, 3]],
      ['pos_embed', [1, 5, 3]],
      ['mask_token', [1, 1, 3]],
      ['blocks.3.gamma_1', [3]],
      ['rel_pos_bias.relative_position_bias_table', [172, 3]],
      ['decoder_norm.weight', [3]],
    ] as const) {
      expect(decays(name, shape), name).toBe(false);
    }
    const w0 = [0.5, -0.3, 0.2, 0.1];
    const b0 = [0.05, -0.02];
    const params = new Map<string, tf.Variable>([
      ['fc.weight', tf.variable(tf.tensor2d(w0, [2, 2]))],
      ['fc.bias', tf.variable(tf.tensor1d(b0))],
    ]);
    const opt = { beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.05 };
    const adam = new AdamW(params, opt);
    const gradsPerStep = [
      [
        [0.1, -0.2, 0.3, 0.05],
        [0.01, -0.4],
      ],
      [
        [-0.05, 0.1, 0.2, -0.3],
        [0.2, 0.1],
      ],
      [
        [0.3, 0.3, -0.1, 0.0],
        [-0.1, 0.05],
      ],
    ];
    const lrs = [1e-2, 2e-2, 5e-3];
    // Reference: PyTorch's AdamW update in float64.
    const ref = { w: [...w0], b: [...b0], mw: [0, 0, 0, 0], vw: [0, 0, 0, 0], mb: [0, 0], vb: [0, 0] };
    gradsPerStep.forEach(([gw, gb], i) => {
      const t = i + 1;
      const lr = lrs[i]!;
      const update = (p: number[], m: number[], v: number[], g: number[], wd: number) => {
        for (let k = 0; k < p.length; k++) {
          p[k] = p[k]! * (1 - lr * wd);
          m[k] = opt.beta1 * m[k]! + (1 - opt.beta1) * g[k]!;
          v[k] = opt.beta2 * v[k]! + (1 - opt.beta2) * g[k]! ** 2;
          const mh = m[k]! / (1 - opt.beta1 ** t);
          const vh = v[k]! / (1 - opt.beta2 ** t);
          p[k] = p[k]! - (lr * mh) / (Math.sqrt(vh) + opt.eps);
        }
      };
      update(ref.w, ref.mw, ref.vw, gw!, opt.weightDecay);
      update(ref.b, ref.mb, ref.vb, gb!, 0);
      const grads = new Map<string, tf.Tensor>([
        ['fc.weight', tf.tensor2d(gw!, [2, 2])],
        ['fc.bias', tf.tensor1d(gb!)],
      ]);
      adam.apply(grads, lr);
      grads.forEach((g) => g.dispose());
    });
    const w = params.get('fc.weight')!.dataSync();
    const b = params.get('fc.bias')!.dataSync();
    ref.w.forEach((v, k) => expect(w[k]).toBeCloseTo(v, 6));
    ref.b.forEach((v, k) => expect(b[k]).toBeCloseTo(v, 6));
    // Exported state restores exactly into a fresh optimizer.
    const state = adam.exportState();
    expect(state.step).toBe(3);
    const again = new AdamW(params, opt);
    again.importState(state);
    expect(Array.from(again.exportState().moments.get('fc.weight')!.expAvgSq)).toEqual(
      Array.from(state.moments.get('fc.weight')!.expAvgSq),
    );
    adam.dispose();
    again.dispose();
    params.forEach((p) => p.dispose());
  });

  it('clips by the global norm like clip_grad_norm_', async () => {
    await tf.setBackend('cpu');
    const grads = new Map<string, tf.Tensor>([
      ['a', tf.tensor1d([3, 0])],
      ['b', tf.tensor1d([0, 4])],
    ]);
    const norm = clipByGlobalNorm(grads, 1);
    expect(norm).toBeCloseTo(5);
    expect(Array.from(grads.get('a')!.dataSync())[0]).toBeCloseTo(0.6, 5);
    expect(Array.from(grads.get('b')!.dataSync())[1]).toBeCloseTo(0.8, 5);
    expect(clipByGlobalNorm(grads, 10)).toBeCloseTo(1, 5);
    grads.forEach((g) => g.dispose());
  });
});

describe('augmentation', () => {
  const image = {
    width: 200,
    height: 120,
    data: Float32Array.from({ length: 200 * 120 }, (_, i) => (i % 200) / 199),
  };

  it('draws crops inside the image within the area range', () => {
    const rng = Rng.stream(1, 'crop');
    for (let i = 0; i < 200; i++) {
      const box = randomResizedCropBox(rng, 200, 120, [0.2, 1]);
      expect(box.x).toBeGreaterThanOrEqual(0);
      expect(box.y).toBeGreaterThanOrEqual(0);
      expect(box.x + box.w).toBeLessThanOrEqual(200);
      expect(box.y + box.h).toBeLessThanOrEqual(120);
      const area = (box.w * box.h) / (200 * 120);
      expect(area).toBeGreaterThan(0.15);
      expect(area).toBeLessThanOrEqual(1);
    }
  });

  it('resamples a horizontal ramp and mirrors it when flipped', () => {
    const out = resizeCrop(image, { x: 0, y: 0, w: 200, h: 120 }, 16, false);
    const flipped = resizeCrop(image, { x: 0, y: 0, w: 200, h: 120 }, 16, true);
    for (let c = 1; c < 16; c++) expect(out[c]!).toBeGreaterThan(out[c - 1]!);
    expect(out[0]!).toBeCloseTo(flipped[15]!, 5);
    expect(out[5 * 16 + 3]!).toBeCloseTo(flipped[5 * 16 + 12]!, 5);
    expect(out[0]!).toBeLessThan(0.05);
    expect(out[15]!).toBeGreaterThan(0.95);
  });

  it('crops and flips the cone mask with the image, binary', () => {
    const cone = {
      width: 200,
      height: 120,
      data: Float32Array.from({ length: 200 * 120 }, (_, i) => (i % 200 < 100 ? 1 : 0)),
    };
    const s = augment(Rng.stream(3, 'augment', 0), image, cone, { size: 32, scale: [0.9, 1] });
    expect(new Set(Array.from(s.cone!))).toEqual(new Set([0, 1]));
    // The bright (right) side of the image is outside the cone, wherever the flip put it.
    const left = s.pixels[16 * 32 + 2]!;
    const coneLeft = s.cone![16 * 32 + 2]!;
    expect(coneLeft === 1 ? left < 0.5 : left > 0.5).toBe(true);
  });
});
