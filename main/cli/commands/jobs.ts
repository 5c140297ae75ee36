import { UsageError, intOption, stringOption, type CliCommand } from '../command';
import { dispatch } from '../../api/dispatcher';
import type { JobRecord } from '../../api/contract';

function line(job: JobRecord): string {
  const p = job.progress;
  const progress = p ? ` ${p.phase} ${p.step}${p.total ? `/${p.total}` : ''}` : '';
  return `${job.id}  ${job.state.padEnd(11)} ${job.kind.padEnd(10)} ${job.title}${progress}${job.error ? `  (${job.error.code}: ${job.error.message})` : ''}`;
}

export const jobsCommand: CliCommand = {
  name: 'jobs',
  summary: 'list, show or cancel jobs: usfm jobs [list|show ID|cancel ID]',
  usage: 'Usage: usfm jobs [list] [--limit N] [--kind KIND] [--state STATE]\n       usfm jobs show JOB_ID\n       usfm jobs cancel JOB_ID',
  options: { limit: { type: 'string' }, kind: { type: 'string' }, state: { type: 'string' } },
  allowPositionals: true,
  async run(ctx) {
    const [sub = 'list', id, ...extra] = ctx.positionals;
    if (extra.length) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`);
    const app = ctx.app();
    if (sub === 'list') {
      const outcome = await dispatch(app, 'jobs.list', {
        limit: intOption(ctx.values, 'limit', 50),
        kind: stringOption(ctx.values, 'kind'),
        state: stringOption(ctx.values, 'state'),
      });
      if (!outcome.ok) throw new UsageError(outcome.error.message + (outcome.error.details ? `: ${JSON.stringify(outcome.error.details)}` : ''));
      const jobs = outcome.result as JobRecord[];
      ctx.result({ jobs }, jobs.length ? jobs.map(line).join('\n') : 'no jobs');
      return 0;
    }
    if (sub !== 'show' && sub !== 'cancel') throw new UsageError(`unknown jobs subcommand "${sub}"`);
    if (!id) throw new UsageError(`usfm jobs ${sub} needs a job id`);
    const outcome = await dispatch(app, sub === 'show' ? 'jobs.get' : 'jobs.cancel', { id });
    if (!outcome.ok) {
      if (outcome.error.code === 'VALIDATION') throw new UsageError(`"${id}" is not a job id`);
      throw new Error(outcome.error.message);
    }
    const job = outcome.result as JobRecord;
    ctx.result({ job }, sub === 'show' ? JSON.stringify(job, null, 2) : `cancel requested: ${line(job)}`);
    return 0;
  },
};
