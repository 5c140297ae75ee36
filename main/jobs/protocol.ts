import type { JobProgress } from '../api/contract';

/** Messages between the job runner (main) and a job process. Plain JSON: they cross a process boundary. */
export type ToWorker =
  | { type: 'start'; jobId: string; kind: string; params: unknown; dataDir: string; settings: Record<string, unknown> }
  | { type: 'cancel' }
  | { type: 'shutdown' };

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export type FromWorker =
  | { type: 'ready'; pid: number }
  | { type: 'progress'; progress: JobProgress }
  | { type: 'log'; level: LogLevel; message: string }
  | { type: 'result'; result: unknown }
  | { type: 'failed'; error: { code: string; message: string } }
  | { type: 'stopped'; reason: 'cancel' | 'shutdown' };

export function isFromWorker(value: unknown): value is FromWorker {
  return typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string';
}
