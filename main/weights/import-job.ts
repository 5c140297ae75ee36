/**
 * The `weights-import` job: importing a ViT-B checkpoint (~350 MB) reads, converts, hashes and writes
 * that much data, more than a UI call should block for, so it runs in a job process with progress.
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { JobFailure, throwIfStopped, type JobKind } from '../jobs/job-kind';
import { ImportRefusedError } from './layouts';
import { importWeights } from './import';
import { UnsafePickleError, PickleFormatError } from './pickle';
import { WEIGHTS_EXTENSIONS, WeightsFileError } from './weights-file';
import { SafetensorsError } from './safetensors';
import { TorchCheckpointError } from './torch-checkpoint';
import { describeConfig } from './model-config';
import { DatasetExportError } from './dataset-export';

export const WeightsImportParams = z.object({
  file: z.string().min(1),
  name: z.string().min(1).max(200),
  layout: z.enum(['auto', 'usfm', 'mae', 'timm']).optional(),
  imgSize: z.number().int().positive().optional(),
  numHeads: z.number().int().positive().optional(),
  keepDecoder: z.boolean().optional(),
  datasetManifest: z.string().min(1).optional(),
});
export type WeightsImportParams = z.infer<typeof WeightsImportParams>;

/** The checks made before a job is started for `file` (an absolute path): supported type, existing file. */
export function checkImportFile(file: string): { code: 'BAD_INPUT' | 'NOT_FOUND'; message: string } | null {
  const ext = path.extname(file).toLowerCase();
  if (!(WEIGHTS_EXTENSIONS as readonly string[]).includes(ext)) {
    return { code: 'BAD_INPUT', message: `unsupported weights file type "${ext || '(none)'}": use ${WEIGHTS_EXTENSIONS.join(', ')}` };
  }
  if (!fs.existsSync(file) || !fs.statSync(file).isFile()) return { code: 'NOT_FOUND', message: `no such weights file: ${path.basename(file)}` };
  return null;
}

/** Errors a user can act on, with a code; anything else is a bug and stays a JOB_ERROR. */
export function importFailure(err: unknown): JobFailure | null {
  if (err instanceof DatasetExportError) return new JobFailure('BAD_MANIFEST', err.message);
  if (err instanceof UnsafePickleError) return new JobFailure('UNSAFE_PICKLE', err.message);
  if (err instanceof ImportRefusedError) return new JobFailure('IMPORT_REFUSED', err.message);
  if (err instanceof WeightsFileError || err instanceof TorchCheckpointError || err instanceof PickleFormatError || err instanceof SafetensorsError) return new JobFailure('BAD_WEIGHTS_FILE', err.message);
  return null;
}

export const weightsImportJob: JobKind<WeightsImportParams> = {
  kind: 'weights-import',
  params: WeightsImportParams,
  async run(params, ctx) {
    if (!fs.existsSync(params.file)) throw new JobFailure('NOT_FOUND', 'the weights file does not exist');
    const started = Date.now();
    try {
      const { model, report } = await importWeights(ctx.catalog().db, ctx.dataDir, {
        ...params,
        checkStop: () => throwIfStopped(ctx),
        onProgress: (phase, done, total) => {
          const elapsed = (Date.now() - started) / 1000;
          const rate = elapsed > 0 && phase === 'reading' ? done / elapsed : null;
          ctx.progress({ phase, step: done, total, rate, rateUnit: 'tensors/s', etaSeconds: rate ? (total - done) / rate : null });
        },
      });
      ctx.log('info', `imported "${model.name}" as ${model.id}: ${describeConfig(model.config)} (${report.sourceLayout} layout)`);
      for (const w of report.warnings) ctx.log('warn', w);
      if (report.unexpected.length) ctx.log('warn', `not imported (no place in the model): ${report.unexpected.join(', ')}`);
      return { model, report };
    } catch (err) {
      throw importFailure(err) ?? err;
    }
  },
};
