/** The `dataset-export` job: thousands of images to decode, blank, encode and write; progress per image. */
import { z } from 'zod';
import { JobFailure, throwIfStopped, type JobKind } from '../jobs/job-kind';
import { DatasetExportError, exportDataset } from './dataset-export';

export const DatasetExportParams = z.object({
  dataset: z.string().min(1),
  outDir: z.string().min(1),
  blankOutsideCone: z.boolean().optional(),
  excludeNearDuplicates: z.boolean().optional(),
});
export type DatasetExportParams = z.infer<typeof DatasetExportParams>;

export const datasetExportJob: JobKind<DatasetExportParams> = {
  kind: 'dataset-export',
  params: DatasetExportParams,
  async run(params, ctx) {
    const started = Date.now();
    try {
      const result = exportDataset(ctx.catalog().db, ctx.dataDir, {
        ...params,
        checkStop: () => throwIfStopped(ctx),
        onProgress: (done, total) => {
          const elapsed = (Date.now() - started) / 1000;
          const rate = elapsed > 0 ? done / elapsed : null;
          ctx.progress({ phase: 'exporting', step: done, total, rate, rateUnit: 'images/s', etaSeconds: rate ? (total - done) / rate : null });
        },
      });
      ctx.log('info', `exported ${result.items} items of "${result.dataset.name}" (${result.masks} masks, ${result.links})`);
      return result;
    } catch (err) {
      if (err instanceof DatasetExportError) throw new JobFailure(err.code, err.message);
      throw err;
    }
  },
};
