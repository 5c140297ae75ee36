import { z } from 'zod';
import { JobFailure, throwIfStopped, type JobKind } from '../job-kind';

const SelfTestParams = z.object({
  steps: z.number().int().min(1),
  stepMs: z.number().int().min(0),
  failAt: z.number().int().min(1).optional(),
});

/** Counts steps with a pause between them: exercises progress, cancel, failure and crash handling. */
export const selfTestJob: JobKind<z.infer<typeof SelfTestParams>> = {
  kind: 'selftest',
  params: SelfTestParams,
  async run({ steps, stepMs, failAt }, ctx) {
    const started = Date.now();
    for (let step = 1; step <= steps; step++) {
      throwIfStopped(ctx);
      await new Promise((resolve) => setTimeout(resolve, stepMs));
      if (failAt === step) throw new JobFailure('SELFTEST_FAILURE', `requested failure at step ${step}`);
      const elapsed = (Date.now() - started) / 1000;
      const rate = elapsed > 0 ? step / elapsed : null;
      ctx.progress({
        phase: 'counting',
        step,
        total: steps,
        rate,
        rateUnit: 'steps/s',
        etaSeconds: rate ? (steps - step) / rate : null,
        metrics: { square: step * step },
      });
    }
    ctx.log('info', `self-test counted ${steps} steps`);
    return { steps, seconds: (Date.now() - started) / 1000 };
  },
};
