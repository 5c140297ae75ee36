import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PNG } from 'pngjs';
import { openCatalog } from '../../../main/catalog/db';
import { createDataset } from '../../../main/catalog/datasets';
import { createSplit } from '../../../main/catalog/splits';
import { listTrainingItems } from '../../../main/catalog/items';
import { runImport, storeMask } from '../../../main/ingest/importer';
import { saveCone } from '../../../main/catalog/cones';
import { rasterizeCone } from '../../../main/imaging/cone';
import { readCachedRaster } from '../../../main/imaging/pixel-cache';
import { exportDataset, DatasetExportError, safeFolderName } from '../../../main/weights/dataset-export';
import { listModels } from '../../../main/weights/model-registry';
import { manifestHash } from '../../../main/ml/pretrain/data';
import { sharedDir, tempDir } from '../../helpers/temp';
import { jsonLines, runCliCaptured } from '../../helpers/cli';
import { runPythonJson } from '../../unit/weights/python-helper';
import { createApp } from '../../../main/app/create-app';
import { dispatch } from '../../../main/api/dispatcher';
import type { JobRecord } from '../../../main/api/contract';

const busi = path.join(sharedDir, 'data', 'busi', 'Dataset_BUSI_with_GT');
let dataDir: string;
let work: string;
let cleanups: (() => void)[] = [];
let datasetId: string;

interface Manifest {
  format: string;
  dataset: { id: string; name: string };
  items: { file: string; mask: string | null; split: string | null; classLabel: string | null; group: string; itemId: number; coneBlanked: boolean; width: number; height: number }[];
  parts: Record<string, number>;
  manifestHash: string;
  pretrainManifestHash: string;
  split: { seed: number } | null;
  links: string;
}


beforeAll(async () => {
  const data = tempDir('usfm-dsexport-data-');
  const w = tempDir('usfm-dsexport-work-');
  cleanups = [data.cleanup, w.cleanup];
  dataDir = data.dir;
  work = w.dir;
  // A small real dataset: BUSI images with their masks, in class folders, imported by the ingestion code.
  const src = path.join(work, 'busi');
  for (const [cls, ids] of [['benign', [1, 2, 3, 4]], ['malignant', [1, 2, 3]], ['normal', [1]]] as const) {
    fs.mkdirSync(path.join(src, cls), { recursive: true });
    for (const i of ids) {
      for (const suffix of ['', '_mask']) fs.copyFileSync(path.join(busi, cls, `${cls} (${i})${suffix}.png`), path.join(src, cls, `${cls} (${i})${suffix}.png`));
    }
  }
  const catalog = openCatalog(dataDir);
  try {
    datasetId = createDataset(catalog.db, 'BUSI mini').id;
    await runImport(catalog, dataDir, { datasetId, importId: 'job_dsexporttest1', paths: [src], stride: 1 });
    createSplit(catalog.db, { datasetId, seed: 7, test: 0.25, val: 0.25 });
    // A cone the user corrected to a sector: its corners (where scanners burn in text) must come out blank.
    const [first] = listTrainingItems(catalog.db, { datasetId });
    const geometry = { shape: 'sector' as const, apexX: first!.width / 2, apexY: -20, innerRadius: 30, outerRadius: first!.height, startAngle: -0.6, endAngle: 0.6 };
    const maskKey = storeMask(dataDir, rasterizeCone(geometry, first!.width, first!.height), first!.width, first!.height);
    saveCone(catalog.db, { itemId: first!.itemId, origin: 'corrected', geometry, method: 'manual', confidence: null, maskKey });
  } finally {
    catalog.close();
  }
});
afterAll(() => cleanups.forEach((c) => c()));

describe('usfm dataset export (job process) for MAE / USFM on a cluster', () => {
  let out: string;
  let manifest: Manifest;

  it('writes images, masks, labels, split lists and the manifest', async () => {
    out = path.join(work, 'export');
    const cli = await runCliCaptured(['dataset', 'export', 'BUSI mini', '--out', out, '--json', '--data-dir', dataDir]);
    expect(cli.code, cli.stdout + cli.stderr).toBe(0);
    const result = jsonLines(cli.stdout).at(-1) as { type: string; ok: boolean; items: number };
    expect(result).toMatchObject({ type: 'result', ok: true, items: 8 });

    manifest = JSON.parse(fs.readFileSync(path.join(out, 'manifest.json'), 'utf8')) as Manifest;
    expect(manifest.format).toBe('usfm-workbench-dataset-export');
    expect(manifest.dataset).toEqual({ id: datasetId, name: 'BUSI mini' });
    expect(manifest.items).toHaveLength(8);
    expect(manifest.split?.seed).toBe(7);
    expect(manifest.links).toBe('hard links');
    const byPart = (p: string) => manifest.items.filter((i) => i.split === p).map((i) => `${i.file}\n`).join('');
    for (const part of ['train', 'val', 'test']) expect(fs.readFileSync(path.join(out, 'splits', `${part}.txt`), 'utf8')).toBe(byPart(part));
    expect(manifest.parts.train + manifest.parts.val + manifest.parts.test).toBe(8);
    expect(manifest.parts.test).toBeGreaterThan(0);
    const csv = fs.readFileSync(path.join(out, 'labels.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toBe('file,split,class_label,organ,group,has_mask,width,height');
    expect(csv).toHaveLength(9);

    // Train items hash exactly as the workbench's own pretraining hashes its item list.
    const catalog = openCatalog(dataDir);
    const train = listTrainingItems(catalog.db, { datasetId, split: 'train' });
    catalog.close();
    expect(manifest.pretrainManifestHash).toBe(manifestHash(datasetId, train.map((t) => ({ itemId: t.itemId, pixelKey: t.pixelKey, coneKey: t.coneKey }))));
  });

  it('de-identifies: item-id file names, per-export patient groups, pixels outside the cone blanked', () => {
    const names = fs.readdirSync(path.join(out, 'images'));
    expect(names.every((n) => /^item_\d+\.png$/.test(n))).toBe(true);
    const everything = JSON.stringify(manifest) + fs.readFileSync(path.join(out, 'labels.csv'), 'utf8');
    expect(everything).not.toMatch(/benign \(|malignant \(|\.\.\/|\/tmp\//);
    expect(everything).not.toMatch(/file-[0-9a-f]{16}/); // the catalog's patient keys stay inside
    expect(new Set(manifest.items.map((i) => i.group)).size).toBe(8);

    const catalog = openCatalog(dataDir);
    const items = listTrainingItems(catalog.db, { datasetId });
    catalog.close();
    let checked = 0;
    let outside = 0;
    for (const item of items.filter((i) => i.coneKey)) {
      const entry = manifest.items.find((e) => e.itemId === item.itemId)!;
      expect(entry.coneBlanked).toBe(true);
      const cone = readCachedRaster(dataDir, item.coneKey!);
      const png = PNG.sync.read(fs.readFileSync(path.join(out, entry.file)));
      expect([png.width, png.height]).toEqual([cone.width, cone.height]);
      const original = readCachedRaster(dataDir, item.pixelKey);
      let outsideNonZero = 0;
      let insideChanged = 0;
      for (let p = 0; p < cone.data.length; p++) {
        const exported = png.data[p * 4]!;
        if (!cone.data[p]) {
          outside++;
          if (exported !== 0) outsideNonZero++;
        } else if (original.channels === 1 && original.bitDepth === 8 && exported !== original.data[p]) insideChanged++;
      }
      expect({ outsideNonZero, insideChanged }).toEqual({ outsideNonZero: 0, insideChanged: 0 });
      checked++;
    }
    expect(checked).toBeGreaterThan(0);
    expect(outside).toBeGreaterThan(0); // some cones leave pixels out (others cover cropped images whole)
  });

  it('lays folders out as MAE (ImageFolder, no test images) and USFM (Seg image/mask pairs, Cls classes) read them', () => {
    const check = runPythonJson<{
      mae: Record<string, { classes: string[]; count: number; shapes_ok: boolean }>;
      seg: Record<string, { pairs: number; sizes_match: boolean; mask_values: number[] }>;
      cls: Record<string, string[]>;
    }>(
      String.raw`
import os, sys, json
import numpy as np
from PIL import Image
import torch
root = sys.argv[1]
def image_folder(d):
    # torchvision.datasets.ImageFolder: classes = sorted sub-folders; MAE loads each image with PIL .convert('RGB')
    classes = sorted(e.name for e in os.scandir(d) if e.is_dir())
    samples = [(os.path.join(d, c, f), i) for i, c in enumerate(classes) for f in sorted(os.listdir(os.path.join(d, c)))]
    ok = all(torch.from_numpy(np.asarray(Image.open(p).convert('RGB'))).shape[2] == 3 for p, _ in samples)
    return {'classes': classes, 'count': len(samples), 'shapes_ok': ok}
mae = {s: image_folder(os.path.join(root, 'mae', s)) for s in sorted(os.listdir(os.path.join(root, 'mae')))}
seg_root = os.path.join(root, 'usfm', 'Seg', 'BUSI mini')
seg = {}
for s in sorted(os.listdir(seg_root)):
    imgs = sorted(os.listdir(os.path.join(seg_root, s, 'image'))); masks = sorted(os.listdir(os.path.join(seg_root, s, 'mask')))
    sizes = all(Image.open(os.path.join(seg_root, s, 'image', f)).size == Image.open(os.path.join(seg_root, s, 'mask', f)).size for f in imgs)
    values = sorted(set(int(v) for f in masks for v in np.unique(np.asarray(Image.open(os.path.join(seg_root, s, 'mask', f))))))
    seg[s] = {'pairs': len(imgs) if imgs == masks else -1, 'sizes_match': sizes, 'mask_values': values}
cls_root = os.path.join(root, 'usfm', 'Cls', 'BUSI mini')
cls = {s: sorted(os.listdir(os.path.join(cls_root, s))) for s in sorted(os.listdir(cls_root))}
print(json.dumps({'mae': mae, 'seg': seg, 'cls': cls}))
`,
      [out],
    );
    const parts = manifest.parts;
    expect(Object.keys(check.mae).sort()).toEqual(parts.val ? ['train', 'val'] : ['train']);
    expect(check.mae.train!.count).toBe(parts.train);
    expect(check.mae.train!.shapes_ok).toBe(true);
    expect(fs.existsSync(path.join(out, 'mae', 'test'))).toBe(false);
    const sets = { train: 'trainning_set', val: 'val_set', test: 'test_set' } as const;
    for (const [part, folder] of Object.entries(sets)) {
      const withMask = manifest.items.filter((i) => i.split === part && i.mask).length;
      if (withMask === 0) continue;
      expect(check.seg[folder], folder).toMatchObject({ pairs: withMask, sizes_match: true });
      expect(check.seg[folder]!.mask_values.every((v) => v === 0 || v === 255)).toBe(true);
    }
    const allClasses = new Set(Object.values(check.cls).flat());
    expect([...allClasses].sort()).toEqual(['benign', 'malignant', 'normal'].filter((c) => manifest.items.some((i) => i.classLabel === c && i.split)));
    // Hard links: one copy of the pixels on disk.
    const first = manifest.items.find((i) => i.split === 'train')!;
    expect(fs.statSync(path.join(out, first.file)).nlink).toBeGreaterThan(1);
  });

  it('records the export as provenance of weights trained on it elsewhere (round trip)', async () => {
    const cli = await runCliCaptured(
      ['weights', 'import', path.join(sharedDir, 'reference', 'fixtures', 'vit_timm_weights_mae_style.pth'), '--name', 'MAE from the cluster', '--manifest', path.join(out, 'manifest.json'), '--json', '--data-dir', dataDir],
    );
    expect(cli.code, cli.stderr).toBe(0);
    const catalog = openCatalog(dataDir);
    const [model] = listModels(catalog.db);
    catalog.close();
    expect(model!.metadata).toMatchObject({ datasetManifestHash: manifest.pretrainManifestHash, dataset: { id: datasetId, name: 'BUSI mini', exportManifestHash: manifest.manifestHash } });
  });

  it('refuses a non-empty output folder and unknown datasets; keeps the original pixels without blanking on request', () => {
    const catalog = openCatalog(dataDir);
    try {
      expect(() => exportDataset(catalog.db, dataDir, { dataset: 'BUSI mini', outDir: out })).toThrow(/not empty/);
      expect(() => exportDataset(catalog.db, dataDir, { dataset: 'nope', outDir: path.join(work, 'x') })).toThrow(DatasetExportError);
      const raw = exportDataset(catalog.db, dataDir, { dataset: datasetId, outDir: path.join(work, 'raw'), blankOutsideCone: false });
      expect(raw.items).toBe(8);
      const m = JSON.parse(fs.readFileSync(path.join(work, 'raw', 'manifest.json'), 'utf8')) as Manifest;
      expect(m.items.every((i) => !i.coneBlanked)).toBe(true);
      expect(m.manifestHash).toBe(manifest.manifestHash);
    } finally {
      catalog.close();
    }
    expect(safeFolderName('a/b:c?')).toBe('a_b_c_');
    expect(safeFolderName('..')).toBe('_');
  });
});

describe('datasets.export (the contract call behind Datasets → Export for PyTorch)', () => {
  it('starts the export job, and refuses relative, non-empty and unknown targets before any job starts', async () => {
    const app = createApp({ dataDir, mode: 'browser' });
    try {
      const target = path.join(work, 'from-the-app');
      const started = await dispatch(app, 'datasets.export', { id: datasetId, outDir: target, excludeNearDuplicates: true });
      expect(started.ok, JSON.stringify(started)).toBe(true);
      const job = await app.jobs.waitFor((started as { result: JobRecord }).result.id);
      expect(job.state, JSON.stringify(job.error)).toBe('succeeded');
      expect(job.kind).toBe('dataset-export');
      const m = JSON.parse(fs.readFileSync(path.join(target, 'manifest.json'), 'utf8')) as Manifest;
      expect(m.dataset).toEqual({ id: datasetId, name: 'BUSI mini' });
      expect(m.items).toHaveLength(8);
      expect(m.items.some((i) => i.coneBlanked)).toBe(true); // blanking is on by default

      const jobsBefore = app.jobs.list({ limit: 1000 }).length;
      const refused = (payload: unknown) => dispatch(app, 'datasets.export', payload);
      expect(await refused({ id: datasetId, outDir: target })).toMatchObject({ ok: false, error: { code: 'CONFLICT', message: expect.stringMatching(/not an empty folder/) } });
      expect(await refused({ id: datasetId, outDir: 'exports/here' })).toMatchObject({ ok: false, error: { code: 'BAD_INPUT' } });
      expect(await refused({ id: 'ds_0123456789', outDir: path.join(work, 'unknown') })).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
      expect(await refused({ id: datasetId, outDir: path.join(work, 'x2'), format: 'zip' })).toMatchObject({ ok: false, error: { code: 'VALIDATION' } });
      expect(app.jobs.list({ limit: 1000 }).length).toBe(jobsBefore);
    } finally {
      await app.close();
    }
  });
});
