import fs from 'node:fs';
import path from 'node:path';
import { EventEmitter } from 'node:events';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { UtilityProcess, UtilityProcessModule } from 'electron';
import { adaptUtilityProcess, createUtilityLauncher } from '../../../electron/utility-launcher';
import { createUtilityProbe, probeEntry } from '../../../electron/utility-probe';
import { createApp } from '../../../main/app/create-app';
import { dispatch } from '../../../main/api/dispatcher';
import type { AppContext } from '../../../main/app/context';
import type { JobRecord } from '../../../main/api/contract';
import type { FromWorker } from '../../../main/jobs/protocol';
import { jobState } from '../../helpers/app';
import { tempDir } from '../../helpers/temp';
import { FakeUtilityProcessModule } from './fake-electron';

/** A utility process that never runs: the test plays the child's side. */
class ScriptedChild extends EventEmitter {
  pid: number | undefined = undefined;
  readonly stdout = new PassThrough();
  readonly stderr = new PassThrough();
  readonly posted: unknown[] = [];
  killed = 0;
  postMessage(message: unknown): void {
    this.posted.push(message);
  }
  kill(): boolean {
    this.killed++;
    return true;
  }
}

describe('utility process adapter', () => {
  it('passes job messages through, drops malformed ones and reports the exit code', () => {
    const child = new ScriptedChild();
    const job = adaptUtilityProcess(child as unknown as UtilityProcess);
    const messages: FromWorker[] = [];
    const exits: [number | null, string | null][] = [];
    job.onMessage((m) => messages.push(m));
    job.onExit((code, signal) => exits.push([code, signal]));
    expect(job.pid).toBeUndefined();
    child.pid = 4242; // known once Electron reports 'spawn'
    expect(job.pid).toBe(4242);

    job.send({ type: 'cancel' });
    expect(child.posted).toEqual([{ type: 'cancel' }]);
    child.emit('message', { type: 'ready', pid: 4242 });
    child.emit('message', 'not a message');
    child.emit('message', null);
    child.emit('message', { type: 'progress', progress: { phase: 'p', step: 1, total: 2 } });
    expect(messages).toEqual([
      { type: 'ready', pid: 4242 },
      { type: 'progress', progress: { phase: 'p', step: 1, total: 2 } },
    ]);
    child.emit('exit', 3);
    expect(exits).toEqual([[3, null]]);
    // After exit nothing is sent or killed.
    job.send({ type: 'shutdown' });
    job.kill();
    expect(child.posted).toHaveLength(1);
    expect(child.killed).toBe(0);
  });

  it('keeps the stderr tail and V8 fatal errors for crash reports', async () => {
    const child = new ScriptedChild();
    const job = adaptUtilityProcess(child as unknown as UtilityProcess);
    child.stderr.write('loading model\n');
    child.emit(
      'error',
      'FatalError',
      'Reached heap limit Allocation failed - JavaScript heap out of memory',
      '',
    );
    await new Promise((resolve) => setImmediate(resolve));
    expect(job.stderrTail()).toContain('loading model');
    expect(job.stderrTail()).toContain('out of memory');
  });

  it('kill before spawn falls back to utilityProcess.kill()', () => {
    const child = new ScriptedChild();
    const job = adaptUtilityProcess(child as unknown as UtilityProcess);
    job.kill('SIGKILL');
    expect(child.killed).toBe(1);
  });
});

describe('jobs through the utility launcher (real job processes)', () => {
  let app: AppContext;
  let utility: FakeUtilityProcessModule;
  let cleanup: () => void;

  beforeEach(() => {
    const temp = tempDir('usfm-utility-');
    cleanup = temp.cleanup;
    utility = new FakeUtilityProcessModule();
    app = createApp({
      dataDir: temp.dir,
      mode: 'electron',
      launcher: createUtilityLauncher(utility as unknown as UtilityProcessModule),
    });
  });
  afterEach(async () => {
    await app.close();
    cleanup();
  });

  async function startSelfTest(input: { steps: number; stepMs: number }): Promise<JobRecord> {
    const outcome = await dispatch(app, 'jobs.startSelfTest', input);
    if (!outcome.ok) throw new Error(outcome.error.message);
    return outcome.result as JobRecord;
  }

  it('runs a job to completion with progress, forked as a named piped utility process', async () => {
    const steps: number[] = [];
    const unsubscribe = app.events.subscribe((event, payload) => {
      if (event === 'job.progress') steps.push((payload as { progress: { step: number } }).progress.step);
    });
    const job = await startSelfTest({ steps: 4, stepMs: 10 });
    const done = await jobState(app, job.id, 'succeeded');
    unsubscribe();
    expect(steps).toEqual([1, 2, 3, 4]);
    expect(done.result).toMatchObject({ steps: 4 });
    expect(utility.forks).toHaveLength(1);
    const fork = utility.forks[0]!;
    expect(fork.args).toEqual([`--job=${job.id}`, '--kind=selftest']);
    expect(fork.options).toMatchObject({ serviceName: 'USFM job selftest', stdio: 'pipe' });
    expect(fork.options.env?.USFM_JOB_ID).toBe(job.id);
    expect(path.basename(fork.modulePath)).toMatch(/^(worker\.ts|job-worker\.mjs)$/);
    expect(fork.exitCode).toBe(0);
  });

  it('cancels a running job: the job process stops on request', async () => {
    const job = await startSelfTest({ steps: 200, stepMs: 50 });
    await new Promise<void>((resolve) => {
      const unsubscribe = app.events.subscribe((event, payload) => {
        if (event === 'job.progress' && (payload as { id: string }).id === job.id) {
          unsubscribe();
          resolve();
        }
      });
    });
    app.jobs.cancel(job.id);
    const done = await jobState(app, job.id, 'cancelled');
    expect(done.error).toBeNull();
    expect(utility.forks[0]!.exitCode).toBe(0);
  });

  it('kill stops the process at once and reports the signal', async () => {
    const launch = createUtilityLauncher(utility as unknown as UtilityProcessModule);
    const job = launch({ jobId: 'job_killtest0', kind: 'selftest' });
    const ready = new Promise<void>((resolve) => job.onMessage((m) => m.type === 'ready' && resolve()));
    const exited = new Promise<[number | null, string | null]>((resolve) =>
      job.onExit((code, signal) => resolve([code, signal])),
    );
    await ready;
    expect(job.pid).toBeGreaterThan(0);
    job.kill('SIGKILL');
    expect(await exited).toEqual([null, 'SIGKILL']);
  });
});

describe('backend probe in a utility process', () => {
  it('returns the real backend report', async () => {
    const utility = new FakeUtilityProcessModule();
    const report = await createUtilityProbe(utility as unknown as UtilityProcessModule)('auto', 1);
    expect(['tfjs-node-gpu', 'tfjs-node', 'wasm', 'cpu']).toContain(report.active);
    expect(report.attempts.length).toBeGreaterThan(0);
    expect(utility.forks[0]!.args).toEqual(['auto', '1']);
    expect(utility.forks[0]!.options).toMatchObject({ serviceName: 'USFM backend probe', stdio: 'pipe' });
    expect(fs.existsSync(probeEntry().file)).toBe(true);
  });

  it('rejects with the first stderr line when the probe fails', async () => {
    const temp = tempDir('usfm-probe-');
    try {
      const failing = path.join(temp.dir, 'failing-probe.mjs');
      fs.writeFileSync(failing, "process.stderr.write('no backend could be loaded\\n'); process.exit(1);\n");
      const utility = new FakeUtilityProcessModule();
      const probe = createUtilityProbe(utility as unknown as UtilityProcessModule, () => ({
        file: failing,
        execArgv: [],
      }));
      await expect(probe('auto', 1)).rejects.toThrow('backend probe failed: no backend could be loaded');
      const silent = path.join(temp.dir, 'silent-probe.mjs');
      fs.writeFileSync(silent, 'process.exit(0);\n');
      const quiet = createUtilityProbe(utility as unknown as UtilityProcessModule, () => ({
        file: silent,
        execArgv: [],
      }));
      await expect(quiet('auto', 1)).rejects.toThrow('exited without a report');
    } finally {
      temp.cleanup();
    }
  });
});
