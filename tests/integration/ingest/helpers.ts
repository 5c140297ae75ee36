import fs from 'node:fs';
import path from 'node:path';
import type { AppContext } from '../../../main/app/context';
import type { JobRecord } from '../../../main/api/contract';
import type { ImportJobParams } from '../../../main/ingest/import-job';
import { sharedDir } from '../../helpers/temp';

export const DICOM = path.join(sharedDir, 'data', 'dicom');
export const BUSI = path.join(sharedDir, 'data', 'busi');

export interface TsvRow {
  file: string;
  sha256_12: string;
  frames: number;
}

/** The files a shared set lists in its files.tsv. */
export function tsv(set: 'ultrasound' | 'encodings' | 'broken'): TsvRow[] {
  const [header, ...lines] = fs.readFileSync(path.join(DICOM, set, 'files.tsv'), 'utf8').trim().split('\n');
  const cols = header!.split('\t');
  return lines.map((l) => {
    const v = l.split('\t');
    const get = (c: string): string => v[cols.indexOf(c)] ?? '';
    const frames = Number(get('frames'));
    return { file: get('file'), sha256_12: get('sha256_12'), frames: Number.isFinite(frames) && frames > 0 ? frames : 1 };
  });
}

export async function runImport(app: AppContext, params: ImportJobParams): Promise<JobRecord> {
  const job = app.jobs.start('import', params, 'test import');
  return app.jobs.waitFor(job.id);
}

/** Every item of the dataset has its pixels and cone in the cache; every decoded source has all its items. */
export function checkConsistent(app: AppContext, datasetId: string): { sources: number; items: number } {
  const db = app.catalog.db;
  const sources = db.prepare(`SELECT id, imported_frames, duplicate_of FROM sources WHERE dataset_id = ?`).all(datasetId) as {
    id: number;
    imported_frames: number;
    duplicate_of: number | null;
  }[];
  for (const s of sources) {
    const n = (db.prepare(`SELECT COUNT(*) AS n FROM items WHERE source_id = ?`).get(s.id) as { n: number }).n;
    if (n !== s.imported_frames) throw new Error(`source ${s.id} has ${n} items, expected ${s.imported_frames}`);
  }
  const items = db.prepare(`SELECT i.id, i.pixel_key, c.mask_key FROM items i LEFT JOIN cones c ON c.item_id = i.id AND c.origin = 'auto' WHERE i.dataset_id = ?`).all(datasetId) as {
    id: number;
    pixel_key: string;
    mask_key: string | null;
  }[];
  for (const i of items) {
    if (!i.mask_key) throw new Error(`item ${i.id} has no cone`);
    for (const key of [i.pixel_key, i.mask_key]) {
      if (!fs.existsSync(path.join(app.dataDir, 'cache', 'pixels', key.slice(0, 2), `${key}.uspx`))) throw new Error(`item ${i.id}: cache entry ${key} missing`);
    }
  }
  return { sources: sources.length, items: items.length };
}
