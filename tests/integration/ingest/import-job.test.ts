/**
 * The import job end to end: real shared DICOM and BUSI files, a real SQLite catalog, real forked job
 * processes and the real bounded decode pool.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import dicomParser from 'dicom-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppContext } from '../../../main/app/context';
import type { JobRecord } from '../../../main/api/contract';
import { dispatch } from '../../../main/api/dispatcher';
import { getOrCreateDataset } from '../../../main/catalog/datasets';
import { listImportErrors } from '../../../main/catalog/import-errors';
import { createSplit } from '../../../main/catalog/splits';
import type { ImportSummary } from '../../../main/ingest/importer';
import { ensureSampleDataset, SAMPLE_DATASET_NAME } from '../../../main/ingest/samples';
import {
  listTrainingItems,
  readCachedPixels,
  readConeMask,
  readSegmentationMask,
} from '../../../main/ingest/dataset-reader';
import { testApp, nextEvent } from '../../helpers/app';
import { BUSI, DICOM, checkConsistent, runImport, tsv } from './helpers';

let app: AppContext;
let dispose: () => Promise<void>;
let dicomDataset: string;
let firstSummary: ImportSummary;

beforeAll(async () => {
  ({ app, dispose } = testApp());
  dicomDataset = getOrCreateDataset(app.catalog.db, 'shared DICOM').id;
  const job = await runImport(app, {
    datasetId: dicomDataset,
    paths: [path.join(DICOM, 'ultrasound'), path.join(DICOM, 'encodings'), path.join(DICOM, 'broken')],
    stride: 1,
  });
  expect(job.state, JSON.stringify(job.error)).toBe('succeeded');
  firstSummary = job.result as ImportSummary;
});

afterAll(async () => dispose());

function sourceRow(
  relPath: string,
):
  | { id: number; imported_frames: number; frames: number; duplicate_of: number | null; meta: string }
  | undefined {
  return app.catalog.db
    .prepare(`SELECT * FROM sources WHERE dataset_id = ? AND rel_path = ?`)
    .get(dicomDataset, relPath) as never;
}

describe('importing the shared DICOM corpus', () => {
  it('imports every file of ultrasound/ and encodings/, every frame, decoded once into the cache', () => {
    for (const set of ['ultrasound', 'encodings'] as const) {
      for (const row of tsv(set)) {
        const s = sourceRow(`${set}/${row.file}`);
        expect(s, `${set}/${row.file} is in the catalog`).toBeDefined();
        expect(s!.frames, row.file).toBe(row.frames);
        // Byte-identical copies of another file are recorded as duplicates, with no items of their own.
        if (s!.duplicate_of === null) expect(s!.imported_frames, row.file).toBe(row.frames);
      }
    }
    const { items } = checkConsistent(app, dicomDataset);
    expect(items).toBe(firstSummary.items);
    expect(firstSummary.multiFrameFiles).toBeGreaterThanOrEqual(5);
  });

  it('records an error naming the file and the cause for each broken file, and imports the rest', () => {
    const { errors, total } = listImportErrors(app.catalog.db, { datasetId: dicomDataset, limit: 100 });
    expect(total).toBe(firstSummary.errors);
    expect(total).toBeGreaterThanOrEqual(6);
    const broken = new Set(tsv('broken').map((r) => `broken/${r.file}`));
    for (const e of errors) {
      expect(broken.has(e.file), `${e.file} is one of the broken files`).toBe(true);
      expect(e.message.startsWith(`${e.file}: `)).toBe(true);
      expect(e.message.length).toBeGreaterThan(e.file.length + 10);
      expect(e.message).not.toMatch(/\/work\/|\/tmp\//);
      expect(e.code).toMatch(/^[A-Z_]+$/);
    }
    // Every broken file is accounted for: an error, or (where the damage spares the pixels) items.
    for (const file of broken) {
      const imported = sourceRow(file);
      expect(imported !== undefined || errors.some((e) => e.file === file), file).toBe(true);
    }
    expect(firstSummary.errorList.map((e) => e.file).sort()).toEqual(errors.map((e) => e.file).sort());
  });

  it('flags exact duplicates by hash and identical decoded frames (US1_UNCR = US1_RLE, OBXXXX1A = its RLE copy)', () => {
    const db = app.catalog.db;
    const key = (rel: string): string =>
      (
        db
          .prepare(
            `SELECT i.pixel_key FROM items i JOIN sources s ON s.id = i.source_id WHERE s.dataset_id = ? AND s.rel_path = ? AND i.frame_index = 0`,
          )
          .get(dicomDataset, rel) as { pixel_key: string }
      ).pixel_key;
    expect(key('ultrasound/pydicom-data/US1_UNCR.dcm')).toBe(key('ultrasound/WG04/US1_RLE.dcm'));
    expect(key('ultrasound/pydicom-data/OBXXXX1A.dcm')).toBe(key('ultrasound/pydicom-data/OBXXXX1A_rle.dcm'));
    const flagged = db
      .prepare(
        `SELECT COUNT(*) AS n FROM items i JOIN sources s ON s.id = i.source_id WHERE s.dataset_id = ? AND s.rel_path = 'ultrasound/pydicom-data/OBXXXX1A_rle.dcm' AND i.duplicate_of IS NOT NULL`,
      )
      .get(dicomDataset) as { n: number };
    expect(flagged.n).toBe(1);
    expect(firstSummary.duplicates.frames).toBeGreaterThanOrEqual(5);
  });

  it('stores only de-identified metadata: no patient name or ID of any source is in the catalog', () => {
    const secrets = new Set<string>();
    for (const set of ['ultrasound', 'encodings'] as const) {
      for (const row of tsv(set)) {
        try {
          const ds = dicomParser.parseDicom(new Uint8Array(fs.readFileSync(path.join(DICOM, set, row.file))));
          // Patient name, ID, birth date, referring physician, institution: removed or replaced by the profile
          // (an institution named like the manufacturer, a kept attribute, is no secret).
          const manufacturer = ds.string('x00080070')?.trim();
          for (const tag of ['x00100010', 'x00100020', 'x00100030', 'x00080080', 'x00080090']) {
            const v = ds.string(tag)?.trim();
            if (v && !manufacturer?.includes(v) && v.replace(/[^A-Za-z0-9]/g, '').length >= 4) secrets.add(v);
          }
        } catch {
          /* files dicom-parser cannot read carry nothing to look for here */
        }
      }
    }
    expect(secrets.size).toBeGreaterThan(3);
    app.catalog.db.pragma('wal_checkpoint(TRUNCATE)');
    const catalogText = fs.readFileSync(app.catalog.path).toString('latin1');
    for (const secret of secrets)
      expect(catalogText.includes(secret), `catalog holds "${secret}"`).toBe(false);
    const meta = JSON.parse(sourceRow('ultrasound/pydicom-data/US1_UNCR.dcm')!.meta) as {
      patientIdentityRemoved?: string;
      transferSyntax?: string;
    };
    expect(meta.patientIdentityRemoved).toBe('YES');
    expect(meta.transferSyntax).toBeTruthy();
  });

  it('never modifies the source files', () => {
    for (const set of ['ultrasound', 'encodings', 'broken'] as const) {
      for (const row of tsv(set)) {
        const hash = crypto
          .createHash('sha256')
          .update(fs.readFileSync(path.join(DICOM, set, row.file)))
          .digest('hex');
        expect(hash.slice(0, 12), row.file).toBe(row.sha256_12);
      }
    }
  });

  it('re-importing the same files is idempotent', async () => {
    const before = checkConsistent(app, dicomDataset);
    const job = await runImport(app, {
      datasetId: dicomDataset,
      paths: [path.join(DICOM, 'ultrasound'), path.join(DICOM, 'encodings'), path.join(DICOM, 'broken')],
      stride: 1,
    });
    expect(job.state).toBe('succeeded');
    const s = job.result as ImportSummary;
    expect(s.imported).toBe(0);
    expect(s.items).toBe(0);
    expect(s.unchanged + s.errors).toBe(s.files);
    expect(checkConsistent(app, dicomDataset)).toEqual(before);
    expect(listImportErrors(app.catalog.db, { datasetId: dicomDataset, limit: 1 }).total).toBe(
      firstSummary.errors,
    );
  });

  it('samples long loops with a stride: every n-th frame, with its original frame index', async () => {
    const ds = getOrCreateDataset(app.catalog.db, 'strided').id;
    const file = path.join(DICOM, 'ultrasound', 'pydicom', 'examples_ybr_color.dcm');
    const job = await runImport(app, { datasetId: ds, paths: [file], stride: 4 });
    expect(job.state).toBe('succeeded');
    const frames = app.catalog.db
      .prepare(`SELECT frame_index FROM items WHERE dataset_id = ? ORDER BY frame_index`)
      .all(ds) as { frame_index: number }[];
    expect(frames.map((f) => f.frame_index)).toEqual([0, 4, 8, 12, 16, 20, 24, 28]);
  });
});

describe('an import killed midway', () => {
  it('leaves a consistent catalog, and running it again completes it', async () => {
    const ds = getOrCreateDataset(app.catalog.db, 'killed').id;
    const params = {
      datasetId: ds,
      paths: [path.join(BUSI, 'Dataset_BUSI_with_GT'), path.join(DICOM, 'ultrasound')],
      stride: 1,
    };
    const job = app.jobs.start('import', params, 'import to be killed');
    await nextEvent(
      app,
      'job.progress',
      (p) => p.id === job.id && p.progress.step >= 12 && (p.progress.metrics?.items ?? 0) > 0,
      120_000,
    );
    const running = app.jobs.get(job.id)!;
    expect(running.pid).toBeGreaterThan(0);
    process.kill(running.pid!, 'SIGKILL');
    const dead = await app.jobs.waitFor(job.id);
    expect(dead.state).toBe('crashed');
    const partial = checkConsistent(app, ds);
    expect(partial.sources).toBeGreaterThan(0);
    expect(partial.sources).toBeLessThan(75 + 18);

    // The interrupted import is still on record: resuming it runs it again over the same paths.
    const restart = await dispatch(app, 'import.resume', { importId: job.id });
    expect(restart.ok).toBe(true);
    const resumed = await app.jobs.waitFor((restart as { result: { id: string } }).result.id);
    expect(resumed.state).toBe('succeeded');
    const s = resumed.result as ImportSummary;
    expect(s.unchanged).toBe(partial.sources);
    const done = checkConsistent(app, ds);
    expect(done.sources).toBe(75 + 18);
    // Same catalog as an import that was never interrupted: 75 BUSI images plus the ultrasound frames.
    const ultrasoundItems = (
      app.catalog.db
        .prepare(
          `SELECT COUNT(*) AS n FROM items i JOIN sources s ON s.id = i.source_id WHERE s.dataset_id = ? AND s.rel_path LIKE 'ultrasound/%'`,
        )
        .get(dicomDataset) as { n: number }
    ).n;
    expect(done.items).toBe(75 + ultrasoundItems);
    const labels = app.catalog.db
      .prepare(
        `SELECT class_label, COUNT(*) AS n, SUM(has_mask) AS m FROM items WHERE dataset_id = ? AND class_label IS NOT NULL GROUP BY class_label ORDER BY class_label`,
      )
      .all(ds);
    expect(labels).toEqual([
      { class_label: 'benign', n: 30, m: 30 },
      { class_label: 'malignant', n: 30, m: 30 },
      { class_label: 'normal', n: 15, m: 15 },
    ]);
  });
});

describe('cancelling an import', () => {
  it('stops between files, keeps what was recorded, and marks the import stopped', async () => {
    const ds = getOrCreateDataset(app.catalog.db, 'cancelled').id;
    const job = app.jobs.start(
      'import',
      { datasetId: ds, paths: [path.join(BUSI, 'Dataset_BUSI_with_GT')], stride: 1 },
      'import to cancel',
    );
    await nextEvent(app, 'job.progress', (p) => p.id === job.id && p.progress.step >= 5, 120_000);
    app.jobs.cancel(job.id);
    const ended = await app.jobs.waitFor(job.id);
    expect(ended.state).toBe('cancelled');
    const { sources } = checkConsistent(app, ds);
    expect(sources).toBeGreaterThanOrEqual(5);
    expect(sources).toBeLessThan(75);
    const record = app.catalog.db.prepare(`SELECT state FROM imports WHERE id = ?`).get(job.id) as {
      state: string;
    };
    expect(record.state).toBe('stopped');
  });
});

describe('one import per dataset at a time', () => {
  it('refuses a second import into, or deleting, a dataset while its import runs; both work once it ended', async () => {
    const folder = path.join(BUSI, 'Dataset_BUSI_with_GT');
    const first = await dispatch(app, 'import.start', { paths: [folder], datasetName: 'busy' });
    expect(first.ok).toBe(true);
    if (!first.ok) return;
    const ds = getOrCreateDataset(app.catalog.db, 'busy').id;
    const second = await dispatch(app, 'import.start', { paths: [folder], datasetId: ds });
    expect(second).toMatchObject({
      ok: false,
      error: { code: 'CONFLICT', message: expect.stringMatching(/an import into "busy" is already running/) },
    });
    const removal = await dispatch(app, 'datasets.delete', { id: ds });
    expect(removal).toMatchObject({ ok: false, error: { code: 'CONFLICT' } });
    const firstJob = first.result as JobRecord;
    app.jobs.cancel(firstJob.id);
    expect((await app.jobs.waitFor(firstJob.id)).state).toBe('cancelled');
    checkConsistent(app, ds);
    const again = await dispatch(app, 'import.start', {
      paths: [path.join(folder, 'normal', 'normal (1).png')],
      datasetId: ds,
    });
    expect(again.ok).toBe(true);
    if (again.ok) await app.jobs.waitFor((again.result as JobRecord).id);
    expect(await dispatch(app, 'datasets.delete', { id: ds })).toMatchObject({
      ok: true,
      result: { deleted: true },
    });
  });
});

describe('first-run sample dataset', () => {
  it('imports resources/samples as "Sample (BUSI)" once: 12 images, masks, classes, organ breast', async () => {
    const job = ensureSampleDataset(app);
    expect(job).not.toBeNull();
    const done = await app.jobs.waitFor(job!.id);
    expect(done.state).toBe('succeeded');
    expect(ensureSampleDataset(app)).toBeNull();
    const ds = app.catalog.db.prepare(`SELECT id FROM datasets WHERE name = ?`).get(SAMPLE_DATASET_NAME) as {
      id: string;
    };
    const rows = app.catalog.db
      .prepare(
        `SELECT class_label, organ, COUNT(*) AS n, SUM(has_mask) AS m FROM items WHERE dataset_id = ? GROUP BY class_label, organ ORDER BY class_label`,
      )
      .all(ds.id);
    expect(rows).toEqual([
      { class_label: 'benign', organ: 'breast', n: 4, m: 4 },
      { class_label: 'malignant', organ: 'breast', n: 4, m: 4 },
      { class_label: 'normal', organ: 'breast', n: 4, m: 4 },
    ]);

    // The loader API of the pretraining code reads it back without decoding anything again.
    createSplit(app.catalog.db, { datasetId: ds.id, seed: 1, test: 0.25 });
    const train = listTrainingItems(app.catalog.db, { datasetId: ds.id, split: 'train' });
    const test = listTrainingItems(app.catalog.db, { datasetId: ds.id, split: 'test' });
    expect(train.length + test.length).toBe(12);
    for (const item of [...train, ...test]) {
      const pixels = readCachedPixels(app.dataDir, item);
      expect([pixels.width, pixels.height]).toEqual([item.width, item.height]);
      const cone = readConeMask(app.dataDir, item)!;
      expect(cone.length).toBe(item.width * item.height);
      const mask = readSegmentationMask(app.dataDir, item)!;
      expect(mask.length).toBe(item.width * item.height);
    }
    // benign (4) has two lesion masks: its mask is their union.
    const b4 = app.catalog.db
      .prepare(
        `SELECT i.id FROM items i JOIN sources s ON s.id = i.source_id WHERE s.dataset_id = ? AND s.rel_path LIKE '%benign (4).png'`,
      )
      .get(ds.id) as { id: number };
    const item = [...train, ...test].find((t) => t.itemId === b4.id)!;
    const union = readSegmentationMask(app.dataDir, item)!.reduce((a, v) => a + v, 0);
    const { readPng } = await import('../../../main/ingest/image-read');
    const countOnes = (f: string): number => {
      const r = readPng(fs.readFileSync(path.join(BUSI, 'Dataset_BUSI_with_GT', 'benign', f)));
      let n = 0;
      for (let i = 0; i < r.width * r.height; i++) n += r.data[i * r.channels]! > 127 ? 1 : 0;
      return n;
    };
    expect(union).toBeGreaterThan(
      Math.max(countOnes('benign (4)_mask.png'), countOnes('benign (4)_mask_1.png')),
    );
    expect(union).toBeLessThanOrEqual(countOnes('benign (4)_mask.png') + countOnes('benign (4)_mask_1.png'));
  });
});

describe('contract calls', () => {
  it('pages and filters items, serves thumbnails and images', async () => {
    const page = await dispatch(app, 'items.query', {
      datasetId: dicomDataset,
      filter: { format: 'dicom', duplicates: 'exclude' },
      limit: 10,
    });
    expect(page.ok).toBe(true);
    const result = (
      page as {
        result: { items: { id: number; relPath: string }[]; total: number; nextCursor: number | null };
      }
    ).result;
    expect(result.items.length).toBe(10);
    expect(result.nextCursor).toBe(result.items[9]!.id);
    for (const i of result.items) expect(path.isAbsolute(i.relPath)).toBe(false);
    const thumbs = await dispatch(app, 'items.thumbnails', { ids: result.items.map((i) => i.id) });
    const list = (thumbs as { result: { id: number; dataUrl: string }[] }).result;
    for (const t of list) {
      expect(t.dataUrl.startsWith('data:image/png;base64,')).toBe(true);
      expect(t.dataUrl.length).toBeLessThan(60_000);
    }
    const image = await dispatch(app, 'items.image', {
      id: result.items[0]!.id,
      maxSide: 256,
      blankOutsideCone: true,
    });
    expect(image.ok).toBe(true);
    const bad = await dispatch(app, 'items.query', { datasetId: dicomDataset, filter: { color: 'red' } });
    expect(bad.ok).toBe(false);
  });

  it('corrects the cone of a cine loop for all its frames, and resets it', async () => {
    const loop = app.catalog.db
      .prepare(
        `SELECT i.id FROM items i JOIN sources s ON s.id = i.source_id WHERE s.dataset_id = ? AND s.rel_path LIKE '%US-PAL-8-10x-echo.dcm' ORDER BY i.id`,
      )
      .all(dicomDataset) as { id: number }[];
    expect(loop.length).toBe(10);
    const geometry = {
      shape: 'sector',
      apexX: 301,
      apexY: 3.4,
      innerRadius: 0,
      outerRadius: 353,
      startAngle: -0.6947,
      endAngle: 0.6947,
    };
    const set = await dispatch(app, 'items.setCone', { id: loop[3]!.id, geometry });
    expect(set).toMatchObject({
      ok: true,
      result: { updated: 10, cone: { origin: 'corrected', method: 'user' } },
    });
    const cone = await dispatch(app, 'items.cone', { id: loop[7]!.id });
    expect(cone).toMatchObject({ ok: true, result: { effective: { origin: 'corrected', geometry } } });
    const training = listTrainingItems(app.catalog.db, { datasetId: dicomDataset }).find(
      (t) => t.itemId === loop[0]!.id,
    )!;
    expect(training.coneOrigin).toBe('corrected');
    const reset = await dispatch(app, 'items.resetCone', { id: loop[0]!.id });
    expect(reset).toMatchObject({ ok: true, result: { reset: 10 } });
    const after = await dispatch(app, 'items.cone', { id: loop[7]!.id });
    expect(after).toMatchObject({ ok: true, result: { corrected: null, effective: { origin: 'auto' } } });
    const empty = await dispatch(app, 'items.setCone', {
      id: loop[0]!.id,
      geometry: { shape: 'rectangle', x0: 5000, y0: 5000, x1: 6000, y1: 6000 },
    });
    expect(empty).toMatchObject({ ok: false, error: { code: 'BAD_INPUT' } });
  });

  it('assigns labels, edits the taxonomy, splits by patient, lists import errors', async () => {
    const assign = await dispatch(app, 'labels.assign', {
      datasetId: dicomDataset,
      filter: { format: 'dicom' },
      organ: 'heart',
    });
    expect(assign.ok).toBe(true);
    const unknown = await dispatch(app, 'labels.assign', {
      datasetId: dicomDataset,
      filter: {},
      organ: 'spleenish',
    });
    expect(unknown).toMatchObject({ ok: false, error: { code: 'BAD_INPUT' } });
    const added = await dispatch(app, 'taxonomy.add', { name: 'Appendix' });
    expect(added).toMatchObject({ ok: true, result: { id: 'appendix' } });
    const split = await dispatch(app, 'splits.create', { datasetId: dicomDataset, seed: 7, test: 0.3 });
    expect(split.ok).toBe(true);
    const byPatient = app.catalog.db
      .prepare(
        `SELECT i.patient_key, COUNT(DISTINCT si.part) AS parts FROM items i JOIN split_items si ON si.item_id = i.id WHERE si.split_id = ? GROUP BY i.patient_key`,
      )
      .all((split as { result: { id: number } }).result.id) as { parts: number }[];
    expect(byPatient.length).toBeGreaterThan(5);
    for (const p of byPatient) expect(p.parts).toBe(1);
    const errors = await dispatch(app, 'import.errors', { datasetId: dicomDataset });
    expect((errors as { result: { total: number } }).result.total).toBe(firstSummary.errors);
    const imports = await dispatch(app, 'import.list', { datasetId: dicomDataset });
    for (const r of (imports as { result: { roots: string[] }[] }).result)
      for (const root of r.roots) expect(path.isAbsolute(root)).toBe(false);
    const missing = await dispatch(app, 'import.start', { paths: ['/nonexistent/folder'], datasetName: 'x' });
    expect(missing).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
  });
});
