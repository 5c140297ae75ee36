/** The `import` job: runs an import (see importer.ts) in its own process, with progress and cancel. */
import { z } from 'zod';
import { getDataset } from '../catalog/datasets';
import { getOrgan } from '../catalog/labels';
import { JobFailure, JobStopped, type JobKind } from '../jobs/job-kind';
import { ImportStopped, runImport, type ImportSummary } from './importer';

export const ImportJobParams = z.object({
  datasetId: z.string().min(1),
  /** Absolute paths of files and folders. */
  paths: z.array(z.string().min(1)).min(1).max(10_000),
  stride: z.number().int().min(1).max(10_000),
  maxFrames: z.number().int().min(1).optional(),
  organ: z.string().min(1).nullable().optional(),
  classLabel: z.string().min(1).max(200).nullable().optional(),
});
export type ImportJobParams = z.infer<typeof ImportJobParams>;

export const importJob: JobKind<ImportJobParams> = {
  kind: 'import',
  params: ImportJobParams,
  async run(params, ctx): Promise<ImportSummary> {
    const catalog = ctx.catalog();
    if (!getDataset(catalog.db, params.datasetId)) throw new JobFailure('NO_DATASET', `no dataset ${params.datasetId}`);
    if (params.organ && !getOrgan(catalog.db, params.organ)) throw new JobFailure('UNKNOWN_ORGAN', `"${params.organ}" is not in the organ taxonomy`);
    try {
      return await runImport(
        catalog,
        ctx.dataDir,
        { ...params, importId: ctx.jobId },
        { signal: ctx.signal, progress: (p) => ctx.progress(p), log: (level, message) => ctx.log(level, message) },
      );
    } catch (err) {
      if (err instanceof ImportStopped) throw new JobStopped(ctx.stopReason() ?? 'shutdown');
      throw err;
    }
  },
};
