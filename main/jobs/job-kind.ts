import type { z } from 'zod';
import type { JobProgress } from '../api/contract';
import type { Catalog } from '../catalog/db';
import type { LogLevel } from './protocol';

/** What a job's code gets from the job process. */
export interface JobContext {
  readonly jobId: string;
  readonly dataDir: string;
  readonly settings: Readonly<Record<string, unknown>>;
  /** Aborted when the user cancels or the app shuts down; `stopReason` tells which. */
  readonly signal: AbortSignal;
  stopReason(): 'cancel' | 'shutdown' | null;
  progress(progress: JobProgress): void;
  log(level: LogLevel, message: string): void;
  /** The catalog, opened once per job process. */
  catalog(): Catalog;
}

/**
 * A kind of job. `run` resolves with a JSON-serialisable result. When `ctx.signal` aborts, it should save
 * what it can (a checkpoint) and throw `JobStopped` (or return) promptly.
 */
export interface JobKind<P = unknown> {
  kind: string;
  params: z.ZodType<P>;
  run(params: P, ctx: JobContext): Promise<unknown>;
}

/** Thrown by a job that stopped because it was asked to. */
export class JobStopped extends Error {
  constructor(readonly reason: 'cancel' | 'shutdown') {
    super(`job stopped (${reason})`);
    this.name = 'JobStopped';
  }
}

/** An expected failure with a code the user can act on (bad input, non-finite loss, ...). */
export class JobFailure extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'JobFailure';
  }
}

export function throwIfStopped(ctx: JobContext): void {
  const reason = ctx.stopReason();
  if (reason) throw new JobStopped(reason);
}
