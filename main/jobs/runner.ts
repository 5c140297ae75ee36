import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { JobProgress, JobRecord, JobState } from '../api/contract';
import { TERMINAL_JOB_STATES } from '../api/contract';
import type { EventBus } from '../app/event-bus';
import { JobStore } from './job-store';
import type { JobLauncher, JobProcess } from './launcher';
import type { FromWorker, LogLevel } from './protocol';
import { isJobKind } from './kinds';
import type { Database } from 'better-sqlite3';

export interface JobRunnerOptions {
  db: Database;
  events: EventBus;
  launcher: JobLauncher;
  dataDir: string;
  settings: () => Record<string, unknown>;
  /** Jobs that may run at once; the rest wait in 'queued'. */
  maxConcurrent?: number;
  /** How long a cancelled job may take to stop before it is killed. */
  cancelGraceMs?: number;
  /** Minimum interval between progress writes to the catalog (events are not throttled). */
  progressPersistMs?: number;
}

interface LiveJob {
  id: string;
  kind: string;
  process: JobProcess | null;
  /** Set once the job process reported how it ended (result, failure or stop). */
  outcome: { state: JobState; result?: unknown; error?: { code: string; message: string } } | null;
  lastPersist: number;
  pendingProgress: JobProgress | null;
  killTimer: NodeJS.Timeout | null;
  exited: Promise<void>;
  resolveExited: () => void;
}

export function newJobId(): string {
  return `job_${Date.now().toString(36)}${crypto.randomBytes(5).toString('hex')}`;
}

/**
 * Starts each job in its own process, streams its progress, records its state in the catalog,
 * cancels it, and explains how it ended, including crashes (signal, exit code, out of memory).
 */
export class JobRunner {
  readonly store: JobStore;
  private readonly live = new Map<string, LiveJob>();
  private readonly queue: { id: string; kind: string; params: unknown }[] = [];
  private shuttingDown = false;

  constructor(private readonly options: JobRunnerOptions) {
    this.store = new JobStore(options.db);
  }

  /** Mark jobs of a previous app instance that died with it; their checkpoints make them resumable. */
  recoverOrphans(): JobRecord[] {
    const recovered: JobRecord[] = [];
    for (const job of this.store.unfinished()) {
      if (this.live.has(job.id)) continue;
      if (job.pid && isProcessAlive(job.pid)) continue; // run by another instance (e.g. the CLI)
      this.store.finish(job.id, 'interrupted', {
        error: { code: 'APP_STOPPED', message: 'the application stopped while this job was running' },
      });
      recovered.push(this.store.get(job.id)!);
    }
    return recovered;
  }

  start(kind: string, params: unknown, title: string): JobRecord {
    if (this.shuttingDown) throw new Error('the application is shutting down');
    if (!isJobKind(kind)) throw new Error(`unknown job kind "${kind}"`);
    const record = this.store.insert({ id: newJobId(), kind, title, params });
    this.options.events.emit('job.state', record);
    this.queue.push({ id: record.id, kind, params });
    this.pump();
    return this.store.get(record.id)!;
  }

  get(id: string): JobRecord | null {
    return this.store.get(id);
  }

  list(filter: { limit: number; kind?: string; state?: JobState }): JobRecord[] {
    return this.store.list(filter);
  }

  isLive(id: string): boolean {
    return this.live.has(id);
  }

  /** Resolves when the job has ended (immediately if it is not live). */
  async waitFor(id: string): Promise<JobRecord> {
    const queued = this.queue.find((q) => q.id === id);
    if (queued) await new Promise<void>((resolve) => {
      const unsubscribe = this.options.events.subscribe((event, payload) => {
        if (event === 'job.state' && (payload as JobRecord).id === id && (payload as JobRecord).state !== 'queued') {
          unsubscribe();
          resolve();
        }
      });
    });
    const live = this.live.get(id);
    if (live) await live.exited;
    const job = this.store.get(id);
    if (!job) throw new Error(`no job ${id}`);
    return job;
  }

  cancel(id: string): JobRecord {
    const queuedAt = this.queue.findIndex((q) => q.id === id);
    if (queuedAt >= 0) {
      this.queue.splice(queuedAt, 1);
      this.store.finish(id, 'cancelled', {});
      const record = this.store.get(id)!;
      this.options.events.emit('job.state', record);
      return record;
    }
    const live = this.live.get(id);
    if (!live) {
      // Run by another process of the app (the CLI, another window): the job process cancels on SIGTERM.
      const record = this.store.get(id);
      if (record?.state === 'running' && record.pid && isProcessAlive(record.pid)) process.kill(record.pid, 'SIGTERM');
      else if (record && !TERMINAL_JOB_STATES.includes(record.state)) {
        this.store.finish(id, 'cancelled', {});
        this.options.events.emit('job.state', this.store.get(id)!);
      }
    }
    if (live?.process) {
      live.process.send({ type: 'cancel' });
      live.killTimer ??= setTimeout(() => {
        live.outcome ??= { state: 'cancelled', error: { code: 'KILLED', message: 'did not stop in time after cancel; killed' } };
        live.process?.kill('SIGKILL');
      }, this.options.cancelGraceMs ?? 10_000);
    }
    const record = this.store.get(id);
    if (!record) throw new Error(`no job ${id}`);
    return record;
  }

  /** Ask every job to checkpoint and stop; kill those still running after `graceMs`. */
  async shutdown(graceMs = 15_000): Promise<void> {
    this.shuttingDown = true;
    for (const q of this.queue.splice(0)) {
      this.store.finish(q.id, 'interrupted', { error: { code: 'APP_STOPPED', message: 'the application stopped before this job started' } });
    }
    const jobs = [...this.live.values()];
    for (const job of jobs) job.process?.send({ type: 'shutdown' });
    const timer = setTimeout(() => {
      for (const job of jobs) {
        job.outcome ??= { state: 'interrupted', error: { code: 'KILLED', message: 'did not stop in time at shutdown; killed' } };
        job.process?.kill('SIGKILL');
      }
    }, graceMs);
    await Promise.all(jobs.map((j) => j.exited));
    clearTimeout(timer);
  }

  private pump(): void {
    const max = this.options.maxConcurrent ?? 2;
    while (this.live.size < max && this.queue.length > 0) {
      const next = this.queue.shift()!;
      this.launch(next.id, next.kind, next.params);
    }
  }

  private launch(id: string, kind: string, params: unknown): void {
    let resolveExited!: () => void;
    const exited = new Promise<void>((resolve) => (resolveExited = resolve));
    const job: LiveJob = { id, kind, process: null, outcome: null, lastPersist: 0, pendingProgress: null, killTimer: null, exited, resolveExited };
    this.live.set(id, job);
    let proc: JobProcess;
    try {
      proc = this.options.launcher({ jobId: id, kind });
    } catch (err) {
      this.end(job, 'crashed', { error: { code: 'SPAWN_FAILED', message: `could not start the job process: ${(err as Error).message}` } });
      return;
    }
    job.process = proc;
    this.store.markRunning(id, proc.pid ?? null);
    this.options.events.emit('job.state', this.store.get(id)!);
    proc.onMessage((message) => this.onMessage(job, message));
    proc.onExit((code, signal) => this.onExit(job, code, signal));
    proc.send({ type: 'start', jobId: id, kind, params, dataDir: this.options.dataDir, settings: this.options.settings() });
  }

  private onMessage(job: LiveJob, message: FromWorker): void {
    switch (message.type) {
      case 'ready':
        // Electron's utilityProcess has no pid until it has started: record it now.
        if (this.store.get(job.id)?.pid == null) this.store.setPid(job.id, message.pid);
        break;
      case 'progress': {
        this.options.events.emit('job.progress', { id: job.id, kind: job.kind, progress: message.progress });
        job.pendingProgress = message.progress;
        const now = Date.now();
        if (now - job.lastPersist >= (this.options.progressPersistMs ?? 500)) this.flushProgress(job, now);
        break;
      }
      case 'log':
        this.log(job.id, message.level, message.message);
        break;
      case 'result':
        job.outcome = { state: 'succeeded', result: message.result };
        break;
      case 'failed':
        job.outcome = { state: 'failed', error: message.error };
        break;
      case 'stopped':
        job.outcome = { state: message.reason === 'cancel' ? 'cancelled' : 'interrupted' };
        break;
    }
  }

  private flushProgress(job: LiveJob, now = Date.now()): void {
    if (!job.pendingProgress) return;
    this.store.saveProgress(job.id, job.pendingProgress);
    job.pendingProgress = null;
    job.lastPersist = now;
  }

  private onExit(job: LiveJob, code: number | null, signal: NodeJS.Signals | null): void {
    this.flushProgress(job);
    if (job.outcome) {
      this.end(job, job.outcome.state, job.outcome);
      return;
    }
    const stderr = job.process?.stderrTail() ?? '';
    if (stderr) this.appendJobLog(job.id, `--- last output of the job process ---\n${stderr}\n`);
    this.end(job, 'crashed', { error: explainCrash(code, signal, stderr) });
  }

  private end(job: LiveJob, state: JobState, outcome: { result?: unknown; error?: { code: string; message: string } }): void {
    if (job.killTimer) clearTimeout(job.killTimer);
    const current = this.store.get(job.id);
    if (current && !TERMINAL_JOB_STATES.includes(current.state)) this.store.finish(job.id, state, outcome);
    this.live.delete(job.id);
    const record = this.store.get(job.id)!;
    if (state === 'crashed' || state === 'failed') this.log(job.id, 'error', `${record.title}: ${record.error?.message ?? state}`);
    this.options.events.emit('job.state', record);
    job.resolveExited();
    if (!this.shuttingDown) this.pump();
  }

  private log(jobId: string | null, level: LogLevel, message: string): void {
    const time = new Date().toISOString();
    this.options.events.emit('log.line', { jobId, level, message, time });
    if (jobId) this.appendJobLog(jobId, `${time} ${level.toUpperCase()} ${message}\n`);
  }

  /** Each job keeps a plain-text log under <dataDir>/logs/jobs (job code never logs patient data). */
  jobLogPath(jobId: string): string {
    return path.join(this.options.dataDir, 'logs', 'jobs', `${jobId}.log`);
  }

  private appendJobLog(jobId: string, text: string): void {
    try {
      fs.mkdirSync(path.dirname(this.jobLogPath(jobId)), { recursive: true });
      fs.appendFileSync(this.jobLogPath(jobId), text);
    } catch {
      /* a full disk must not take the job runner down */
    }
  }
}

/** Turn an unexpected exit into words a researcher can act on. */
export function explainCrash(code: number | null, signal: NodeJS.Signals | null, stderr: string): { code: string; message: string } {
  if (/heap out of memory|Allocation failed|Cannot allocate memory|out of memory/i.test(stderr)) {
    return { code: 'OUT_OF_MEMORY', message: 'the job process ran out of memory; try a smaller micro-batch or image size' };
  }
  if (signal === 'SIGKILL') {
    return { code: 'KILLED', message: 'the job process was killed (SIGKILL), possibly by the system for lack of memory' };
  }
  if (signal) return { code: 'SIGNAL', message: `the job process ended on signal ${signal}` };
  return { code: 'EXIT', message: `the job process exited unexpectedly with code ${code ?? 'unknown'}` };
}

function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
