/**
 * Ingestion figures (a benchmark: it prints, it asserts nothing):
 * 1. PNG folder import speed: the 75 BUSI images with masks, in images per second (the whole pipeline:
 *    read, hash, decode, pixel cache, thumbnail, cone detection, masks, catalog), single process.
 * 2. Import at scale: N small synthetic PNG files (crops of real BUSI scans; USFM_BENCH_IMPORT_N, default
 *    10 000, 100 000 for the full figure) imported the same way, with the process's peak resident memory
 *    sampled every 50 ms while it runs.
 * 3. Queries at scale: a synthetic catalog of 100 000 items (sources, patients, organs, classes, masks,
 *    a split); the time of one page of 200 items with its total count, for typical filters.
 * The DICOM decode speed is benchmarked separately (dicom-decode.ts).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openCatalog } from '../../main/catalog/db';
import { getOrCreateDataset } from '../../main/catalog/datasets';
import { queryItems, type ItemFilter } from '../../main/catalog/items';
import { createSplit } from '../../main/catalog/splits';
import { runImport } from '../../main/ingest/importer';
import { readPng } from '../../main/ingest/image-read';
import { encodePng } from '../../main/imaging/png';
import { syntheticDataset } from '../unit/catalog/synthetic';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const busi = path.resolve(repo, '..', 'shared', 'data', 'busi', 'Dataset_BUSI_with_GT');

function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(0)} MB`;
}

async function importFolder(folder: string, label: string): Promise<void> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'usfm-bench-import-'));
  const catalog = openCatalog(dataDir);
  const before = process.memoryUsage().rss;
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
  try {
    const ds = getOrCreateDataset(catalog.db, 'bench');
    const started = performance.now();
    const s = await runImport(catalog, dataDir, {
      datasetId: ds.id,
      importId: 'job_bench',
      paths: [folder],
      stride: 1,
    });
    const seconds = (performance.now() - started) / 1000;
    peak = Math.max(peak, process.memoryUsage().rss);
    console.log(
      `${label}: ${s.items} images (${s.masks} with masks) in ${seconds.toFixed(1)} s = ${(s.items / seconds).toFixed(1)} images/s; ` +
        `resident memory ${mb(before)} before, ${mb(peak)} at peak; catalog ${mb(catalog.stats().sizeBytes)}`,
    );
  } finally {
    clearInterval(sampler);
    catalog.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

/** N distinct 96x96 grey PNGs cut from real BUSI scans, in folders of 1000. */
async function syntheticPngFolder(n: number): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'usfm-bench-png-'));
  const scans = ['benign/benign (1).png', 'malignant/malignant (2).png', 'normal/normal (3).png'].map((f) =>
    readPng(fs.readFileSync(path.join(busi, f))),
  );
  const side = 96;
  for (let i = 0; i < n; i++) {
    const scan = scans[i % scans.length]!;
    const ox = (i * 7) % (scan.width - side);
    const oy = Math.floor(i / 7) % (scan.height - side);
    const data = new Uint8Array(side * side);
    for (let y = 0; y < side; y++)
      for (let x = 0; x < side; x++)
        data[y * side + x] = scan.data[((oy + y) * scan.width + ox + x) * scan.channels]!;
    // A counter in the first pixels keeps every file distinct (no duplicates to skip).
    data[0] = i & 255;
    data[1] = (i >> 8) & 255;
    data[2] = (i >> 16) & 255;
    const sub = path.join(dir, `part${String(Math.floor(i / 1000)).padStart(3, '0')}`);
    if (i % 1000 === 0) fs.mkdirSync(sub, { recursive: true });
    fs.writeFileSync(
      path.join(sub, `img${i}.png`),
      encodePng(
        { width: side, height: side, channels: 1, bitDepth: 8, signed: false, data },
        { deflateLevel: 1 },
      ),
    );
    // zlib's native buffers are released between event-loop turns: a loop that never yields piles them up.
    if (i % 100 === 99) await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return dir;
}

function timeQuery(run: () => unknown, runs = 15): number {
  run();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    run();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

export async function bench(): Promise<void> {
  await importFolder(busi, 'BUSI PNG folder import');

  const n = Number(process.env.USFM_BENCH_IMPORT_N ?? 10_000);
  const made = performance.now();
  const folder = await syntheticPngFolder(n);
  console.log(`made ${n} synthetic PNG files in ${((performance.now() - made) / 1000).toFixed(1)} s`);
  try {
    await importFolder(folder, `import of ${n} small PNG files`);
  } finally {
    fs.rmSync(folder, { recursive: true, force: true });
  }

  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'usfm-bench-catalog-'));
  const catalog = openCatalog(dataDir);
  try {
    const started = performance.now();
    const ds = syntheticDataset(catalog.db, { items: 100_000, maskEvery: 5, itemsPerPatient: 40 });
    // What the end of an import does: planner statistics.
    catalog.db.exec('ANALYZE');
    const insertSeconds = (performance.now() - started) / 1000;
    const splitStarted = performance.now();
    createSplit(catalog.db, { datasetId: ds.id, seed: 1, test: 0.2, val: 0.1 });
    console.log(
      `synthetic catalog: 100000 items inserted in ${insertSeconds.toFixed(1)} s (batched transactions), split in ${((performance.now() - splitStarted) / 1000).toFixed(1)} s, catalog ${mb(catalog.stats().sizeBytes)}`,
    );
    const cases: [string, Omit<ItemFilter, 'datasetId'>, { afterId?: number; offset?: number }][] = [
      ['first page, no filter', {}, {}],
      ['organ', { organ: 'liver' }, {}],
      ['organ + class', { organ: 'liver', classLabel: 'malignant' }, {}],
      ['class + with mask', { classLabel: 'benign', hasMask: true }, {}],
      ['split = train', { split: 'train' }, {}],
      [
        'split = test + organ + no near-duplicates',
        { split: 'test', organ: 'kidney', nearDuplicates: 'exclude' },
        {},
      ],
      ['path contains', { pathContains: 's4321.dcm' }, {}],
      ['keyset page deep in the list', { organ: 'thyroid' }, { afterId: 90_000 }],
      ['offset 90 000', {}, { offset: 90_000 }],
    ];
    console.log('page of 200 items with its total count (median of 15 runs):');
    for (const [name, filter, page] of cases) {
      let total = 0;
      const ms = timeQuery(
        () =>
          (total = queryItems(catalog.db, { datasetId: ds.id, ...filter }, { limit: 200, ...page }).total),
      );
      console.log(`  ${name.padEnd(44)} ${ms.toFixed(1).padStart(6)} ms  (${total} matching)`);
    }
  } finally {
    catalog.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}
