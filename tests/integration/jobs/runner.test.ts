import { spawnSync } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dispatch } from '../../../main/api/dispatcher';
import { explainCrash } from '../../../main/jobs/runner';
import { openCatalog } from '../../../main/catalog/db';
import { JobStore } from '../../../main/jobs/job-store';
import { createApp } from '../../../main/app/create-app';
import type { AppContext } from '../../../main/app/context';
import type { JobRecord } from '../../../main/api/contract';
import { jobState, nextEvent, testApp } from '../../helpers/app';

let app: AppContext;
let dataDir: string;
let dispose: () => Promise<void>;

beforeEach(() => {
  ({ app, dataDir, dispose } = testApp());
});
afterEach(async () => dispose());

async function startSelfTest(input: { steps: number; stepMs: number; failAt?: number }): Promise<JobRecord> {
  const outcome = await dispatch(app, 'jobs.startSelfTest', input);
  if (!outcome.ok) throw new Error(outcome.error.message);
  return outcome.result as JobRecord;
}

describe('job runner with real job processes', () => {
  it('runs a job in its own process, streams progress and records the result', async () => {
    const progress: number[] = [];
    const unsubscribe = app.events.subscribe((event, payload) => {
      if (event === 'job.progress') progress.push((payload as { progress: { step: number } }).progress.step);
    });
    const job = await startSelfTest({ steps: 5, stepMs: 20 });
    expect(job.state).toBe('running');
    expect(job.pid).not.toBe(process.pid);
    const done = await jobState(app, job.id, 'succeeded');
    unsubscribe();
    expect(progress).toEqual([1, 2, 3, 4, 5]);
    expect(done.result).toMatchObject({ steps: 5 });
    const log = await dispatch(app, 'jobs.log', { id: job.id });
    expect(log).toMatchObject({ ok: true, result: { lines: [expect.stringContaining('self-test counted 5 steps')] } });
    // The record is durable: a second connection to the same catalog sees it.
    const other = openCatalog(dataDir);
    expect(new JobStore(other.db).get(job.id)).toMatchObject({ state: 'succeeded', progress: { step: 5, total: 5 } });
    other.close();
  });

  it('records a failure with its code and message', async () => {
    const job = await startSelfTest({ steps: 10, stepMs: 5, failAt: 3 });
    const done = await jobState(app, job.id, 'failed');
    expect(done.error).toEqual({ code: 'SELFTEST_FAILURE', message: 'requested failure at step 3' });
  });

  it('cancels a running job', async () => {
    const job = await startSelfTest({ steps: 1000, stepMs: 20 });
    await nextEvent(app, 'job.progress', (p) => p.id === job.id);
    app.jobs.cancel(job.id);
    const done = await jobState(app, job.id, 'cancelled');
    expect(done.progress!.step).toBeLessThan(1000);
  });

  it('cancels a job owned by another app instance (e.g. `usfm jobs cancel` from a terminal)', async () => {
    const job = await startSelfTest({ steps: 1000, stepMs: 20 });
    await nextEvent(app, 'job.progress', (p) => p.id === job.id);
    const other = createApp({ dataDir, mode: 'cli' });
    expect(other.jobs.get(job.id)!.state).toBe('running'); // not mistaken for an orphan
    other.jobs.cancel(job.id);
    await other.close();
    await jobState(app, job.id, 'cancelled');
  });

  it('reports a SIGKILLed job as crashed within 2 s and keeps serving', async () => {
    const job = await startSelfTest({ steps: 1000, stepMs: 20 });
    await nextEvent(app, 'job.progress', (p) => p.id === job.id);
    const crashed = jobState(app, job.id, 'crashed', 2000);
    process.kill(job.pid!, 'SIGKILL');
    const done = await crashed;
    expect(done.error?.code).toBe('KILLED');
    expect(done.error?.message).toMatch(/SIGKILL/);
    expect(await dispatch(app, 'app.ping', {})).toEqual({ ok: true, result: { pong: true } });
    const again = await startSelfTest({ steps: 2, stepMs: 1 });
    await jobState(app, again.id, 'succeeded');
  });

  it('asks jobs to stop at shutdown and marks them interrupted', async () => {
    const job = await startSelfTest({ steps: 1000, stepMs: 20 });
    await nextEvent(app, 'job.progress', (p) => p.id === job.id);
    await app.jobs.shutdown(5000);
    expect(app.jobs.get(job.id)!.state).toBe('interrupted');
  });

  it('queues jobs beyond the concurrency limit and runs them in turn', async () => {
    const jobs = await Promise.all([1, 2, 3].map(() => startSelfTest({ steps: 3, stepMs: 30 })));
    expect(jobs.map((j) => j.state)).toEqual(['running', 'running', 'queued']);
    for (const j of jobs) await app.jobs.waitFor(j.id);
    expect(jobs.map((j) => app.jobs.get(j.id)!.state)).toEqual(['succeeded', 'succeeded', 'succeeded']);
  });

  it('marks jobs of a dead app instance as interrupted on the next start', async () => {
    const store = app.jobs.store;
    const orphan = store.insert({ id: 'job_orphan0001', kind: 'selftest', title: 'orphan', params: {} });
    // A pid that cannot be alive: the exited child of a finished process.
    const dead = spawnSync(process.execPath, ['-e', 'process.exit(0)']).pid;
    store.markRunning(orphan.id, dead);
    const second = createApp({ dataDir, mode: 'cli' });
    expect(second.jobs.get(orphan.id)).toMatchObject({ state: 'interrupted', error: { code: 'APP_STOPPED' } });
    await second.close();
  });
});

describe('crash explanations', () => {
  it('recognises a real out-of-memory abort from its stderr', () => {
    const oom = spawnSync(process.execPath, ['--max-old-space-size=16', '-e', 'const a=[];for(;;)a.push(new Array(1e5).fill(Math.random()))'], { encoding: 'utf8' });
    expect(oom.status === null || oom.status !== 0).toBe(true);
    expect(explainCrash(oom.status, oom.signal, oom.stderr).code).toBe('OUT_OF_MEMORY');
  });

  it('explains signals and exit codes', () => {
    expect(explainCrash(null, 'SIGKILL', '').code).toBe('KILLED');
    expect(explainCrash(null, 'SIGSEGV', '').message).toContain('SIGSEGV');
    expect(explainCrash(3, null, '').message).toContain('code 3');
  });
});
