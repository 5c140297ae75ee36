import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import {
  bandCount,
  bandEdges,
  bandStopMask,
  freqCorrupt,
  freqL2PerImage,
  l1PerImage,
  lsdPerImage,
  maeLoss,
  magnitudeSpectrum,
  maskedL1,
  ssimPerImage,
  usfmPlusLoss,
} from '../../../main/ml/losses';
import { patchify, unpatchify } from '../../../main/ml/vit';
import { FIXTURES, directionalCheck, fixtureTensor, gradientDirectionCheck, maxAbsDiff, randomTensor, setupWasm } from './numerics-helpers';

const facts = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'facts.json'), 'utf8')) as Record<string, number[] & number>;

beforeAll(setupWasm);

function relErrors(got: ArrayLike<number>, want: number[]): number {
  return Math.max(...want.map((w, i) => Math.abs(got[i]! - w) / Math.abs(w)));
}

describe('losses reproduce the PyTorch / scikit-image facts', () => {
  it('per-image SSIM, L1, LSD, frequency L2 and the USFM+ loss', () => {
    tf.tidy(() => {
      const gt = fixtureTensor('losses_io.safetensors', 'gt') as tf.Tensor4D;
      const rec = fixtureTensor('losses_io.safetensors', 'rec') as tf.Tensor4D;
      const ssim = ssimPerImage(rec, gt).dataSync();
      // PyTorch's float32 SSIM is itself ~1e-5 from the float64 value (E[x²] - μ² cancellation): 2e-5 against it,
      // 1e-5 against scikit-image's float64 result.
      expect(relErrors(ssim, facts.ssim)).toBeLessThan(2e-5);
      expect(relErrors(ssim, facts.ssim_skimage as unknown as number[])).toBeLessThan(1e-5);
      expect(relErrors(l1PerImage(rec, gt).dataSync(), facts.l1)).toBeLessThan(1e-5);
      expect(relErrors(lsdPerImage(rec, gt).dataSync(), facts['lsd_eps_1e-3'] as unknown as number[])).toBeLessThan(1e-5);
      expect(relErrors(freqL2PerImage(rec, gt).dataSync(), facts.freq_l2)).toBeLessThan(1e-5);
      const plus = usfmPlusLoss(rec, gt);
      expect(relErrors(plus.loss.dataSync(), [facts.usfm_plus_loss_mean])).toBeLessThan(1e-5);
      expect(plus.ssim.shape).toEqual([4]);
    });
  });

  it('orthonormal magnitude spectrum equals torch.fft.fft2(norm=ortho).abs()', () => {
    tf.tidy(() => {
      const gt = fixtureTensor('losses_io.safetensors', 'gt') as tf.Tensor4D;
      const want = fixtureTensor('losses_io.safetensors', 'spectrum_gt');
      const got = magnitudeSpectrum(gt);
      expect(got.shape).toEqual([4, 1, 224, 224]);
      // DC terms are ~100 (sum/224): 1e-4 absolute is 1e-6 relative there.
      expect(maxAbsDiff(got, want)).toBeLessThan(1e-4);
      // Parseval: the orthonormal transform keeps the energy (row sums first: float32 accumulation).
      const energy = (t: tf.Tensor) => tf.sum(tf.sum(tf.square(t), [0, 1, 3])).dataSync()[0]!;
      expect(energy(got) / energy(gt)).toBeCloseTo(1, 5);
    });
  });

  it('band-stop corruption: edges, mask and |IFFT2(M·FFT2(x))| as the fixture', () => {
    expect(bandEdges(224)).toEqual(facts.band_edges_224);
    expect(bandCount(224)).toBe(11);
    const mask = bandStopMask(224, facts.stopped_bands);
    expect(maxAbsDiff(mask, fixtureTensor('losses_io.safetensors', 'band_mask'))).toBe(0);
    tf.tidy(() => {
      const gt = fixtureTensor('losses_io.safetensors', 'gt') as tf.Tensor4D;
      expect(maxAbsDiff(freqCorrupt(gt, mask), fixtureTensor('losses_io.safetensors', 'freq_corrupted_gt'))).toBeLessThan(1e-4);
      // Nothing stopped: the image comes back unchanged.
      expect(maxAbsDiff(freqCorrupt(gt, new Float32Array(224 * 224).fill(1)), gt)).toBeLessThan(2e-5);
    });
  });

  it('MAE norm-pix loss over masked patches', () => {
    tf.tidy(() => {
      const pred = fixtureTensor('mae_io.safetensors', 'pred') as tf.Tensor3D;
      const mask = fixtureTensor('mae_io.safetensors', 'mask') as tf.Tensor2D;
      const images = tf.slice(fixtureTensor('losses_io.safetensors', 'gt'), [0, 0, 0, 0], [2, 1, 224, 224]) as tf.Tensor4D;
      expect(relErrors(maeLoss(pred, images, mask).dataSync(), [facts.mae_normpix_loss])).toBeLessThan(1e-5);
    });
  });
});

describe('pixel helpers', () => {
  it('patchify/unpatchify round-trip in both vector orders; hwc is MAE (row, col, channel)', () => {
    tf.tidy(() => {
      const x = randomTensor([2, 3, 32, 48], 3) as tf.Tensor4D;
      for (const order of ['chw', 'hwc'] as const) expect(maxAbsDiff(unpatchify(patchify(x, 16, order), 16, 3, order, [2, 3]), x)).toBe(0);
      const p = patchify(x, 16, 'hwc').dataSync();
      const xv = x.dataSync();
      // patch 4 = grid (1, 1); element (row 2, col 5, channel 1) -> index (2·16 + 5)·3 + 1
      expect(p[(0 * 6 + 4) * 768 + (2 * 16 + 5) * 3 + 1]).toBe(xv[1 * 32 * 48 + (16 + 2) * 48 + (16 + 5)]);
    });
  });

  it('masked L1 is the mean absolute error over masked pixels (SimMIM)', () => {
    tf.tidy(() => {
      const rec = randomTensor([2, 1, 32, 32], 4) as tf.Tensor4D;
      const gt = randomTensor([2, 1, 32, 32], 5) as tf.Tensor4D;
      const mask = tf.tensor2d([[1, 0, 0, 0], [0, 0, 1, 1]]);
      const diff = tf.abs(tf.sub(rec, gt));
      const expected = (tf.sum(tf.slice(diff, [0, 0, 0, 0], [1, 1, 16, 16])).dataSync()[0]! + tf.sum(tf.slice(diff, [1, 0, 16, 0], [1, 1, 16, 32])).dataSync()[0]!) / (3 * 256);
      expect(maskedL1(rec, gt, mask).dataSync()[0]).toBeCloseTo(expected, 5);
    });
  });
});

describe('loss gradients against finite differences (32x32 images)', () => {
  const gt = () => tf.sigmoid(randomTensor([2, 1, 32, 32], 21, 2)) as tf.Tensor4D;
  const recInit = () => tf.sigmoid(randomTensor([2, 1, 32, 32], 22, 2));
  // Step sizes: log(|F| + 1e-3) in LSD curves sharply at small magnitudes, so it needs small steps (the
  // relative change of f along the gradient, and the random-direction step). |x| has kinks: the L1 cases
  // keep rec at least 0.05 away from the target so no step crosses one.
  const cases: [string, (rec: tf.Tensor4D, target: tf.Tensor4D) => tf.Scalar, number, number][] = [
    ['ssim', (r, t) => tf.mean(ssimPerImage(r, t)), 1e-2, 1e-3],
    ['l1', (r, t) => tf.mean(l1PerImage(r, t)), 1e-2, 1e-3],
    ['lsd', (r, t) => tf.mean(lsdPerImage(r, t)), 5e-4, 1e-5],
    ['freq l2', (r, t) => tf.mean(freqL2PerImage(r, t)), 1e-2, 1e-3],
    ['usfm+', (r, t) => usfmPlusLoss(r, t).loss, 5e-4, 1e-5],
    ['spectrum', (r) => tf.mean(tf.mul(magnitudeSpectrum(r), randomTensor([2, 1, 32, 32], 23))), 1e-2, 1e-3],
    ['masked l1', (r, t) => maskedL1(r, t, tf.tensor2d([[1, 0, 1, 0], [0, 1, 1, 1]])), 1e-2, 1e-3],
  ];
  for (const [name, loss, change, randomStep] of cases) {
    it(name, () => {
      const target = gt();
      const away = tf.mul(tf.sign(randomTensor([2, 1, 32, 32], 24)), tf.add(0.1, tf.mul(randomTensor([2, 1, 32, 32], 25), 0.05)));
      const rec = tf.variable(name.includes('l1') ? tf.add(target, away) : recInit());
      away.dispose();
      const f = () => loss(rec as unknown as tf.Tensor4D, target);
      const along = gradientDirectionCheck(f, rec, change);
      expect(along.relErr, `${along.analytic} vs ${along.numeric}`).toBeLessThan(1e-2);
      const random = directionalCheck(f, [rec], randomStep);
      expect(random.relErr, `${random.analytic} vs ${random.numeric}`).toBeLessThan(3e-2);
      tf.dispose([target, rec]);
    });
  }

  it('MAE loss (gradient with respect to the prediction)', () => {
    const images = tf.sigmoid(randomTensor([2, 1, 32, 32], 31)) as tf.Tensor4D;
    const pred = tf.variable(randomTensor([2, 4, 256], 32));
    const mask = tf.tensor2d([[1, 1, 0, 0], [0, 1, 0, 1]]);
    const check = gradientDirectionCheck(() => maeLoss(pred as unknown as tf.Tensor3D, images, mask), pred);
    expect(check.relErr).toBeLessThan(1e-2);
    tf.dispose([images, pred, mask]);
  });

  it('repeated loss evaluations and gradients leave the tensor count unchanged', () => {
    const target = gt();
    const rec = tf.variable(recInit());
    const round = () => {
      const { value, grads } = tf.variableGrads(() => tf.add(usfmPlusLoss(rec as unknown as tf.Tensor4D, target).loss, tf.mean(freqL2PerImage(rec as unknown as tf.Tensor4D, target))) as tf.Scalar, [rec]);
      tf.dispose([value, ...Object.values(grads)]);
      tf.tidy(() => freqCorrupt(target, bandStopMask(32, [1]))).dispose();
    };
    round();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) round();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([target, rec]);
  });
});
