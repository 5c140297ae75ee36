import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openCatalog, type Catalog } from '../../../main/catalog/db';
import { vitConfig } from '../../../main/ml/vit/config';
import {
  deleteModel,
  getModel,
  listModels,
  modelFile,
  readModelStateDict,
  registerModel,
  resolveModelFile,
  saveModel,
} from '../../../main/weights/model-registry';
import { exportModel } from '../../../main/weights/export';
import { readWeightsForImport } from '../../../main/weights/import';
import { expectedTensors, type ModelConfig } from '../../../main/weights/model-config';
import { openSafetensors, writeSafetensors, float32Tensor } from '../../../main/weights/safetensors';
import type { StateDict } from '../../../main/weights/state-dict';
import { tempDir } from '../../helpers/temp';

let dataDir: string;
let cleanup: () => void;
let catalog: Catalog;

beforeEach(() => {
  ({ dir: dataDir, cleanup } = tempDir('usfm-registry-'));
  catalog = openCatalog(dataDir);
});
afterEach(() => {
  catalog.close();
  cleanup();
});

function tinyModel(config: ModelConfig): StateDict {
  const out: StateDict = new Map();
  let v = 0;
  for (const [name, { shape }] of expectedTensors(config)) {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1)).map(() => (v++ % 97) / 97);
    out.set(name, { shape, data });
  }
  return out;
}

const timm: ModelConfig = { vit: vitConfig({ embedDim: 32, depth: 2, numHeads: 2 }, { layout: 'timm', imgSize: 32 }) };
const mae: ModelConfig = { ...timm, decoder: { embedDim: 16, depth: 1, numHeads: 2, mlpRatio: 4, posEmbed: 'sincos', outChans: 3 } };

describe('model registry', () => {
  it('saves weights + config.json under models/<id>/, records the row, reads the weights back', () => {
    const tensors = tinyModel(mae);
    const record = saveModel(catalog.db, dataDir, { name: 'MAE tiny', source: 'pretrained', config: mae, tensors, runId: null, metadata: { recipe: 'mae', metrics: { loss: 0.5 } } });
    expect(record.id).toMatch(/^mdl_[0-9a-z]+$/);
    expect(record.file).toBe(`models/${record.id}/model.safetensors`);
    expect(record.task).toBe('pretrain');
    expect(record.layout).toBe('timm');
    expect(fs.existsSync(modelFile(dataDir, record.id))).toBe(true);
    const configJson = JSON.parse(fs.readFileSync(path.join(dataDir, 'models', record.id, 'config.json'), 'utf8')) as Record<string, unknown>;
    expect(configJson).toMatchObject({ id: record.id, layout: 'timm', decoder: mae.decoder });

    expect(getModel(catalog.db, record.id)).toEqual(record);
    expect(listModels(catalog.db).map((m) => m.id)).toEqual([record.id]);
    expect(listModels(catalog.db, { source: 'imported' })).toEqual([]);

    const { tensors: back, metadata } = readModelStateDict(dataDir, record);
    expect(back.size).toBe(tensors.size);
    for (const [name, t] of tensors) expect(Array.from(back.get(name)!.data), name).toEqual(Array.from(t.data));
    expect(metadata).toMatchObject({ format: 'pt', usfm_workbench: '1', recipe: 'mae', metrics: '{"loss":0.5}', layout: 'timm' });
    expect(JSON.parse(metadata.config!)).toEqual(mae);
  });

  it('registers weights a training job wrote itself, and refuses a missing file', () => {
    const id = 'mdl_trained0001';
    const tensors = new Map([...tinyModel(timm)].map(([k, t]) => [k, float32Tensor(t.shape, t.data)]));
    expect(() => registerModel(catalog.db, dataDir, { id, name: 'x', source: 'finetuned', config: timm })).toThrow(/no weights file/);
    writeSafetensors(modelFile(dataDir, id), tensors);
    const record = registerModel(catalog.db, dataDir, { id, name: 'fine-tuned', source: 'finetuned', task: 'classification', config: timm, metadata: { metrics: { auc: 0.9 } } });
    expect(getModel(catalog.db, id)).toMatchObject({ id, source: 'finetuned', task: 'classification', metadata: { metrics: { auc: 0.9 } } });
    expect(fs.existsSync(path.join(dataDir, 'models', id, 'config.json'))).toBe(true);
    expect(record.file).toBe(`models/${id}/model.safetensors`);
  });

  it('deletes the row and the folder', () => {
    const record = saveModel(catalog.db, dataDir, { name: 'gone', source: 'imported', config: timm, tensors: tinyModel(timm) });
    expect(deleteModel(catalog.db, dataDir, record.id)).toBe(true);
    expect(getModel(catalog.db, record.id)).toBeNull();
    expect(fs.existsSync(path.join(dataDir, 'models', record.id))).toBe(false);
    expect(deleteModel(catalog.db, dataDir, record.id)).toBe(false);
  });

  it('refuses invalid configurations and paths outside the data directory', () => {
    const bad = { vit: { ...timm.vit, embedDim: 30 } };
    expect(() => saveModel(catalog.db, dataDir, { name: 'bad', source: 'imported', config: bad, tensors: new Map() })).toThrow(/invalid ViT config/);
    expect(() => resolveModelFile(dataDir, { file: '../../etc/passwd' })).toThrow(/outside the data directory/);
    expect(() => modelFile(dataDir, '../x')).toThrow(/not a model id/);
  });
});

describe('export', () => {
  it('writes PyTorch names with metadata completed from the training run, optionally the backbone only', async () => {
    const now = new Date().toISOString();
    catalog.db
      .prepare(`INSERT INTO runs (id, kind, recipe, config, manifest_hash, state, dir, metrics, created_at, updated_at) VALUES (?, 'pretrain', 'usfm-plus', '{}', ?, 'finished', 'runs/r1', ?, ?, ?)`)
      .run('run_1', 'sha256:abc123', JSON.stringify({ loss: 0.12 }), now, now);
    const record = saveModel(catalog.db, dataDir, { name: 'pretrained', source: 'pretrained', config: mae, tensors: tinyModel(mae), runId: 'run_1' });
    const out = path.join(dataDir, 'export', 'full.safetensors');
    const full = exportModel(catalog.db, dataDir, record.id, out);
    const reader = openSafetensors(out);
    expect(reader.entries.size).toBe(expectedTensors(mae).size);
    expect(reader.metadata).toMatchObject({ recipe: 'usfm-plus', dataset_manifest_hash: 'sha256:abc123', metrics: '{"loss":0.12}', run_id: 'run_1', name: 'pretrained' });
    reader.close();
    expect(full.bytes).toBe(fs.statSync(out).size);

    const backbone = path.join(dataDir, 'export', 'backbone.safetensors');
    exportModel(catalog.db, dataDir, record.id, backbone, { backboneOnly: true });
    const b = openSafetensors(backbone);
    expect([...b.entries.keys()].sort()).toEqual([...expectedTensors(timm).keys()].sort());
    expect(JSON.parse(b.metadata.config!)).toEqual(timm);
    expect(b.metadata.backbone_only).toBe('true');
    b.close();

    // An export imports back as the project's own layout, configuration and metadata included.
    const again = await readWeightsForImport({ file: out });
    expect(again.report.sourceLayout).toBe('project');
    expect(again.config).toEqual(mae);
    expect(again.metadata.recipe).toBe('usfm-plus');
    const original = tinyModel(mae);
    for (const [name, t] of again.tensors) expect(Array.from(t.data), name).toEqual(Array.from(original.get(name)!.data));

    expect(() => exportModel(catalog.db, dataDir, record.id, path.join(dataDir, 'x.pth'))).toThrow(/must end in \.safetensors/);
    expect(() => exportModel(catalog.db, dataDir, 'mdl_nonexistent', out)).toThrow(/no model/);
  });
});

describe('export of the beit layout', () => {
  it("adds BEiT's relative_position_index buffer (int64) and leaves the mask token out of a backbone-only file", () => {
    const beit: ModelConfig = { vit: vitConfig({ embedDim: 32, depth: 1, numHeads: 2 }, { layout: 'beit', imgSize: 48, maskToken: true }), relPosBias: 'shared' };
    const record = saveModel(catalog.db, dataDir, { name: 'usfm tiny', source: 'pretrained', config: beit, tensors: tinyModel(beit) });
    const out = path.join(dataDir, 'beit.safetensors');
    exportModel(catalog.db, dataDir, record.id, out, { backboneOnly: true });
    const reader = openSafetensors(out);
    try {
      const index = reader.entries.get('rel_pos_bias.relative_position_index')!;
      expect(index).toMatchObject({ dtype: 'I64', shape: [10, 10] });
      const values = new BigInt64Array(reader.readBytes('rel_pos_bias.relative_position_index').slice().buffer);
      // CLS row / column / corner use the last three table rows: R = (2*3-1)^2 + 3 = 28.
      expect([values[0], values[1], values[10], values[11]]).toEqual([27n, 25n, 26n, 12n]);
      expect(reader.entries.has('mask_token')).toBe(false);
      expect(JSON.parse(reader.metadata.config!).vit.maskToken).toBe(false);
    } finally {
      reader.close();
    }
  });
});
