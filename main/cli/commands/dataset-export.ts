import path from 'node:path';
import { UsageError, stringOption, type CliCommand, type CommandContext } from '../command';
import type { DatasetExportResult } from '../../weights/dataset-export';

export const DATASET_EXPORT_USAGE = [
  'Usage: usfm dataset export NAME --out DIR [--keep-outside-cone] [--no-near-duplicates] [--json]',
  '',
  'Writes de-identified 8-bit PNG images (pixels outside the ultrasound cone blanked unless --keep-outside-cone),',
  '0/255 masks, labels.csv, split lists and manifest.json, with the folder layouts of MAE (mae/train/<class>/)',
  'and USFM (usfm/Seg/<name>/trainning_set/{image,mask}/, usfm/Cls/<name>/trainning_set/<class>/).',
  'DIR must be new or empty. See main/weights/README.md for the torchrun round trip.',
].join('\n');

export const DATASET_EXPORT_OPTIONS = {
  out: { type: 'string' },
  'keep-outside-cone': { type: 'boolean', default: false },
  'no-near-duplicates': { type: 'boolean', default: false },
} as const;

/** `usfm dataset export NAME --out DIR`: runs the dataset-export job with progress. */
export async function runDatasetExport(ctx: CommandContext, name: string | undefined): Promise<number> {
  if (!name) throw new UsageError('usfm dataset export needs a dataset NAME (or id)');
  const outDir = path.resolve(stringOption(ctx.values, 'out', true));
  const params = {
    dataset: name,
    outDir,
    blankOutsideCone: !ctx.values['keep-outside-cone'],
    excludeNearDuplicates: Boolean(ctx.values['no-near-duplicates']),
  };
  const job = await ctx.runJob('dataset-export', params, `Export dataset "${name}"`);
  if (job.state !== 'succeeded') throw new Error(job.error ? `${job.error.code}: ${job.error.message}` : `the export job ${job.id} ended ${job.state}`);
  const r = job.result as DatasetExportResult;
  ctx.result(
    { ok: true, job: job.id, out: outDir, ...r },
    [
      `exported ${r.items} items of "${r.dataset.name}" to ${outDir} (${r.masks} masks, ${r.links})`,
      `parts:      train ${r.parts.train}, val ${r.parts.val}, test ${r.parts.test}${r.parts.unassigned ? `, unassigned ${r.parts.unassigned}` : ''}`,
      `classes:    ${r.classes.length ? r.classes.join(', ') : '(none)'}`,
      `manifest:   ${r.manifestHash}`,
      `MAE:        --data_path ${path.join(outDir, 'mae')}`,
    ].join('\n'),
  );
  return 0;
}

/**
 * `usfm dataset` with the `export` subcommand. The ingestion CLI can take over this command name and route
 * `export` to runDatasetExport (with DATASET_EXPORT_OPTIONS) instead.
 */
export const datasetCommand: CliCommand = {
  name: 'dataset',
  summary: 'export a dataset for PyTorch training elsewhere (MAE / USFM folder layouts)',
  usage: DATASET_EXPORT_USAGE,
  options: { ...DATASET_EXPORT_OPTIONS },
  allowPositionals: true,
  async run(ctx) {
    const [sub, name, ...extra] = ctx.positionals;
    if (extra.length) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`);
    if (sub !== 'export') throw new UsageError(sub ? `unknown dataset subcommand "${sub}"` : 'usfm dataset needs a subcommand');
    return runDatasetExport(ctx, name);
  },
};
