/**
 * The bundled sample dataset: 12 BUSI images with masks in resources/samples, imported on first start as
 * "Sample (BUSI)". Cheap to call at every start: two indexed queries when the sample is already there.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { AppContext } from '../app/context';
import type { JobRecord } from '../api/contract';
import { createDataset, findDatasetByName } from '../catalog/datasets';
import { getOrgan } from '../catalog/labels';
import { resourcesDir } from '../config/paths';
import type { ImportJobParams } from './import-job';

export const SAMPLE_DATASET_NAME = 'Sample (BUSI)';

export function sampleDir(): string {
  return path.join(resourcesDir(), 'samples');
}

/** The import job running or queued for this dataset, if any (two imports into one dataset would race). */
export function liveImport(ctx: AppContext, datasetId: string): JobRecord | null {
  return (
    ctx.jobs
      .list({ limit: 200, kind: 'import' })
      .find((j) => (j.state === 'queued' || j.state === 'running') && (j.params as Partial<ImportJobParams> | null)?.datasetId === datasetId) ?? null
  );
}

/**
 * Import resources/samples as "Sample (BUSI)" when the catalog has no such dataset, or finish an import of
 * it that was interrupted. Returns the import job started (or still running), null when nothing to do.
 */
export function ensureSampleDataset(ctx: AppContext): JobRecord | null {
  const db = ctx.catalog.db;
  const existing = findDatasetByName(db, SAMPLE_DATASET_NAME);
  if (existing) {
    if (db.prepare(`SELECT 1 FROM imports WHERE dataset_id = ? AND state = 'done' LIMIT 1`).get(existing.id)) return null;
    const live = liveImport(ctx, existing.id);
    if (live) return live;
  }
  const dir = sampleDir();
  if (!fs.existsSync(dir)) return null;
  const dataset =
    existing ?? createDataset(db, SAMPLE_DATASET_NAME, 'Twelve BUSI breast ultrasound images with lesion masks (CC0), bundled with the application.');
  const params: ImportJobParams = { datasetId: dataset.id, paths: [dir], stride: 1, organ: getOrgan(db, 'breast') ? 'breast' : null };
  return ctx.jobs.start('import', params, `Import ${SAMPLE_DATASET_NAME}`);
}
