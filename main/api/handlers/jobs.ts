import fs from 'node:fs';
import type { jobCalls } from '../contract/jobs';
import type { HandlerSet } from './types';
import { ApiError } from '../errors';

export const jobHandlers: HandlerSet<keyof typeof jobCalls> = {
  'jobs.list'(input, ctx) {
    return ctx.jobs.list(input);
  },
  'jobs.get'(input, ctx) {
    const job = ctx.jobs.get(input.id);
    if (!job) throw new ApiError('NOT_FOUND', `no job ${input.id}`);
    return job;
  },
  'jobs.cancel'(input, ctx) {
    if (!ctx.jobs.get(input.id)) throw new ApiError('NOT_FOUND', `no job ${input.id}`);
    return ctx.jobs.cancel(input.id);
  },
  'jobs.log'(input, ctx) {
    if (!ctx.jobs.get(input.id)) throw new ApiError('NOT_FOUND', `no job ${input.id}`);
    let text = '';
    try {
      text = fs.readFileSync(ctx.jobs.jobLogPath(input.id), 'utf8');
    } catch {
      /* no log lines yet */
    }
    return { lines: text.split('\n').filter(Boolean).slice(-input.tail) };
  },
  'jobs.startSelfTest'(input, ctx) {
    return ctx.jobs.start('selftest', input, `Self-test (${input.steps} steps)`);
  },
};
