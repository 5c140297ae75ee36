import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { createVit, disposeVit, encode, getStateDict, loadStateDict, pool, vitConfig } from '../../../main/ml/vit';
import { readWeightsForImport } from '../../../main/weights/import';
import { expectedTensors, type ModelConfig } from '../../../main/weights/model-config';
import { openCatalog, type Catalog } from '../../../main/catalog/db';
import { readModelStateDict, saveModel } from '../../../main/weights/model-registry';
import { sharedDir, tempDir } from '../../helpers/temp';
import { maxAbsDiff, readFloatTensors } from './python-helper';

const fixtures = path.join(sharedDir, 'reference', 'fixtures');
let dataDir: string;
let cleanup: () => void;
let catalog: Catalog;

beforeAll(async () => {
  await tf.setBackend('cpu');
  ({ dir: dataDir, cleanup } = tempDir('usfm-vit-weights-'));
  catalog = openCatalog(dataDir);
});
afterAll(() => {
  catalog.close();
  cleanup();
});

describe('expected tensors match the workbench ViT', () => {
  const configs: [string, ModelConfig][] = [
    ['timm sin-cos', { vit: vitConfig({ embedDim: 64, depth: 2, numHeads: 1 }, { layout: 'timm', imgSize: 64 }) }],
    ['timm learned, mean pooling', { vit: vitConfig({ embedDim: 64, depth: 1, numHeads: 2 }, { layout: 'timm', imgSize: 32, posEmbed: 'learned', pooling: 'mean' }) }],
    ['beit with mask token', { vit: vitConfig({ embedDim: 64, depth: 2, numHeads: 1 }, { layout: 'beit', imgSize: 48, maskToken: true }), relPosBias: 'shared' }],
  ];
  for (const [label, config] of configs) {
    it(`${label}: same names, order and shapes as createVit's state dict`, () => {
      const model = createVit(config.vit, { seed: 1 });
      const actual = [...getStateDict(model)].map(([k, t]) => [k, t.shape]);
      disposeVit(model);
      expect([...expectedTensors(config)].map(([k, t]) => [k, t.shape])).toEqual(actual);
    });
  }
});

describe('imported reference checkpoints reproduce the PyTorch forward', () => {
  for (const [pth, io] of [
    ['vit_beit_weights.pth', 'vit_beit_io.safetensors'],
    ['vit_timm_weights_mae_style.pth', 'vit_timm_io.safetensors'],
  ] as const) {
    it(`${pth} -> model registry -> ViT: tokens${io.includes('beit') ? ' and pooled features' : ''} of ${io}`, async () => {
      const weights = await readWeightsForImport({ file: path.join(fixtures, pth) });
      // Through the project's own format: stored, read back, loaded strictly.
      const record = saveModel(catalog.db, dataDir, { name: pth, source: 'imported', config: weights.config, tensors: weights.tensors });
      const { tensors } = readModelStateDict(dataDir, record);
      const model = createVit(record.config.vit, { seed: 0 });
      loadStateDict(model, tensors, { strict: true });
      const ref = readFloatTensors(path.join(fixtures, io));
      const input = ref.get('input')!;
      const { tokens, pooled } = tf.tidy(() => {
        const t = encode(model, tf.tensor4d(input.data, input.shape as [number, number, number, number]));
        return { tokens: t.dataSync().slice(), pooled: pool(model, t).dataSync().slice() };
      });
      disposeVit(model);
      expect(maxAbsDiff(tokens, ref.get('tokens')!.data)).toBeLessThan(1e-4);
      if (ref.has('pooled')) expect(maxAbsDiff(pooled, ref.get('pooled')!.data)).toBeLessThan(1e-4);
    });
  }

  it('a checkpoint imported at another image size runs at that size', async () => {
    const weights = await readWeightsForImport({ file: path.join(fixtures, 'vit_beit_weights.pth'), imgSize: 64 });
    const model = createVit(weights.config.vit);
    loadStateDict(model, weights.tensors, { strict: true });
    const shape = tf.tidy(() => encode(model, tf.zeros([1, 3, 64, 64]) as tf.Tensor4D).shape);
    disposeVit(model);
    expect(shape).toEqual([1, 17, 192]);
  });
});
