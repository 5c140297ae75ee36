import { intOption, type CliCommand } from '../command';

/** Runs the trivial counting job: checks that job processes start and report from this install (bundle or sources). */
export const selftestCommand: CliCommand = {
  name: 'selftest',
  summary: 'run a trivial counting job end to end (job process, progress, result)',
  usage: 'Usage: usfm selftest [--steps N] [--step-ms MS] [--data-dir DIR] [--json]',
  options: { steps: { type: 'string' }, 'step-ms': { type: 'string' } },
  async run(ctx) {
    const steps = intOption(ctx.values, 'steps', 5)!;
    const stepMs = intOption(ctx.values, 'step-ms', 20)!;
    const job = await ctx.runJob('selftest', { steps, stepMs }, `Self-test (${steps} steps)`);
    const ok = job.state === 'succeeded';
    ctx.result(
      { job },
      ok
        ? `self-test succeeded: ${job.id} counted ${steps} steps`
        : `self-test ${job.state}: ${job.error?.code ?? ''} ${job.error?.message ?? ''}`.trim(),
    );
    return ok ? 0 : 1;
  },
};
