import fs from 'node:fs';
import path from 'node:path';
import { UsageError, intOption, stringOption, type CliCommand } from '../command';
import { createDataset, resolveDataset } from '../../catalog/datasets';
import { resolveOrgan } from '../../catalog/labels';
import type { ImportJobParams } from '../../ingest/import-job';
import { liveImport } from '../../ingest/samples';
import type { ImportSummary } from '../../ingest/importer';

export function summaryText(s: ImportSummary, datasetName: string): string {
  const lines = [
    `imported into "${datasetName}": ${s.items} item(s) from ${s.imported} file(s) (${s.frames} frame(s), ${s.multiFrameFiles} cine loop(s)) in ${s.seconds} s, ${s.imagesPerSecond} images/s`,
    `unchanged:  ${s.unchanged} file(s) already in the catalog`,
    `duplicates: ${s.duplicates.files} file(s) identical to another, ${s.duplicates.frames} frame(s) with identical pixels, ${s.nearDuplicates} near-duplicate frame(s)`,
    `masks:      ${s.masks}${s.layouts.length ? `   layouts: ${s.layouts.join(', ')}` : ''}${s.ignored ? `   other files ignored: ${s.ignored}` : ''}`,
    `errors:     ${s.errors}`,
    ...s.errorList.map((e) => `  ${e.file}: ${e.cause} [${e.code}]`),
  ];
  if (s.errors > s.errorList.length) lines.push(`  ... and ${s.errors - s.errorList.length} more (usfm datasets errors "${datasetName}")`);
  return lines.join('\n');
}

export const importCommand: CliCommand = {
  name: 'import',
  summary: 'import DICOM, PNG and JPEG files and folders into a dataset (a job with a progress bar)',
  usage: [
    'Usage: usfm import PATH... --dataset NAME [--stride N] [--max-frames N] [--organ ORGAN] [--class LABEL] [--json]',
    '',
    'PATH: files or folders (searched recursively). DICOM (any transfer syntax; cine loops give one item per',
    'frame, every N-th with --stride), PNG and JPEG. Folder layouts: flat, one folder per class (the folder',
    'name is the class label), TN3K (<split>-image/ + <split>-mask/) and BUSI (name.png + name_mask*.png).',
    'The dataset is created when missing. Re-running an import skips files already imported, so an',
    'interrupted import resumes where it stopped. Broken files are listed with the cause; the rest imports.',
  ].join('\n'),
  options: {
    dataset: { type: 'string' },
    stride: { type: 'string' },
    'max-frames': { type: 'string' },
    organ: { type: 'string' },
    class: { type: 'string' },
  },
  allowPositionals: true,
  async run(ctx) {
    if (ctx.positionals.length === 0) throw new UsageError('usfm import needs at least one PATH');
    const datasetName = stringOption(ctx.values, 'dataset', true);
    const stride = intOption(ctx.values, 'stride', 1)!;
    if (stride < 1) throw new UsageError('--stride must be at least 1');
    const maxFrames = intOption(ctx.values, 'max-frames');
    if (maxFrames !== undefined && maxFrames < 1) throw new UsageError('--max-frames must be at least 1');
    const paths = ctx.positionals.map((p) => path.resolve(p));
    const missing = paths.filter((p) => !fs.existsSync(p));
    if (missing.length) throw new Error(`not found: ${missing.map((p) => path.basename(p)).join(', ')}`);
    const db = ctx.app().catalog.db;
    const organArg = stringOption(ctx.values, 'organ');
    const organ = organArg ? resolveOrgan(db, organArg) : null;
    if (organArg && !organ) throw new UsageError(`"${organArg}" is not in the organ taxonomy (usfm labels list)`);
    const dataset = resolveDataset(db, datasetName) ?? createDataset(db, datasetName);
    const running = liveImport(ctx.app(), dataset.id);
    if (running) throw new Error(`an import into "${dataset.name}" is already running (job ${running.id}); wait for it or cancel it`);
    const params: ImportJobParams = {
      datasetId: dataset.id,
      paths,
      stride,
      maxFrames,
      organ: organ?.id ?? null,
      classLabel: stringOption(ctx.values, 'class') ?? null,
    };
    const job = await ctx.runJob('import', params, `Import into "${dataset.name}"`);
    if (job.state !== 'succeeded') {
      throw new Error(job.error ? `${job.error.code}: ${job.error.message}` : `the import job ${job.id} ended ${job.state}; run the same command again to resume`);
    }
    const summary = job.result as ImportSummary;
    ctx.result({ ok: true, job: job.id, dataset: { id: dataset.id, name: dataset.name }, ...summary }, summaryText(summary, dataset.name));
    return 0;
  },
};
