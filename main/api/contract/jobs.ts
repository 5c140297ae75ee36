import { z } from 'zod';
import { defineCall } from './define';

export const JobState = z.enum(['queued', 'running', 'succeeded', 'failed', 'cancelled', 'crashed', 'interrupted']);
export type JobState = z.infer<typeof JobState>;
export const TERMINAL_JOB_STATES: readonly JobState[] = ['succeeded', 'failed', 'cancelled', 'crashed', 'interrupted'];

export const JobId = z.string().regex(/^job_[0-9a-z]{6,40}$/, 'not a job id');

export const JobProgress = z.object({
  phase: z.string(),
  step: z.number(),
  total: z.number().nullable(),
  /** Items per second in `rateUnit` (images/s, frames/s, ...). */
  rate: z.number().nullable().optional(),
  rateUnit: z.string().optional(),
  etaSeconds: z.number().nullable().optional(),
  metrics: z.record(z.string(), z.number()).optional(),
  message: z.string().optional(),
});
export type JobProgress = z.infer<typeof JobProgress>;

export const JobErrorInfo = z.object({ code: z.string(), message: z.string() });

export const JobRecord = z.object({
  id: JobId,
  kind: z.string(),
  title: z.string(),
  state: JobState,
  params: z.unknown(),
  progress: JobProgress.nullable(),
  result: z.unknown().nullable(),
  error: JobErrorInfo.nullable(),
  pid: z.number().int().nullable(),
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  endedAt: z.string().nullable(),
});
export type JobRecord = z.infer<typeof JobRecord>;

export const jobCalls = {
  'jobs.list': defineCall(
    'Jobs, newest first.',
    z.object({ limit: z.number().int().min(1).max(500).default(50), kind: z.string().max(64).optional(), state: JobState.optional() }).strict(),
    z.array(JobRecord),
  ),
  'jobs.get': defineCall('One job.', z.object({ id: JobId }).strict(), JobRecord),
  'jobs.cancel': defineCall('Ask a job to stop; it is killed if it does not stop in time.', z.object({ id: JobId }).strict(), JobRecord),
  'jobs.log': defineCall(
    "The job's log lines (the last `tail` lines).",
    z.object({ id: JobId, tail: z.number().int().min(1).max(10_000).default(200) }).strict(),
    z.object({ lines: z.array(z.string()) }),
  ),
  'jobs.startSelfTest': defineCall(
    'A trivial job that counts steps: checks the job machinery end to end.',
    z.object({ steps: z.number().int().min(1).max(10_000).default(20), stepMs: z.number().int().min(0).max(10_000).default(100), failAt: z.number().int().min(1).optional() }).strict(),
    JobRecord,
  ),
};

export const jobEvents = {
  'job.progress': z.object({ id: JobId, kind: z.string(), progress: JobProgress }),
  'job.state': JobRecord,
  'log.line': z.object({ jobId: JobId.nullable(), level: z.enum(['debug', 'info', 'warn', 'error']), message: z.string(), time: z.string() }),
};
