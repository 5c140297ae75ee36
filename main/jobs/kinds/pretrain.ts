import { z } from 'zod';
import { JobFailure, JobStopped, type JobKind } from '../job-kind';

const PretrainJobParams = z.object({ runId: z.string().regex(/^run_[0-9a-z]{6,40}$/) }).strict();

/** Runs (or resumes) the pretraining run recorded in the catalog; see main/ml/pretrain/trainer.ts. */
export const pretrainJob: JobKind<z.infer<typeof PretrainJobParams>> = {
  kind: 'pretrain',
  params: PretrainJobParams,
  async run({ runId }, ctx) {
    const { trainRun, TrainingFailure, TrainingStopped } = await import('../../ml/pretrain/trainer');
    const { InitError } = await import('../../ml/pretrain/init-weights');
    try {
      return await trainRun(
        runId,
        { db: ctx.catalog().db, dataDir: ctx.dataDir, jobId: ctx.jobId, settings: ctx.settings },
        { progress: (p) => ctx.progress(p), log: (level, message) => ctx.log(level, message), stopReason: () => ctx.stopReason() },
      );
    } catch (err) {
      if (err instanceof TrainingStopped) throw new JobStopped(err.reason);
      if (err instanceof TrainingFailure) throw new JobFailure(err.code, err.message);
      if (err instanceof InitError) throw new JobFailure(`INIT_${err.code}`, err.message);
      throw err;
    }
  },
};
