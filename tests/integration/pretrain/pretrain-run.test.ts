/**
 * A tiny-112 USFM+ run on the bundled sample dataset, in real forked job processes: its loss goes down,
 * the live tensor count stays flat, a SIGKILL mid-run loses nothing a checkpoint holds, and the resumed
 * run continues the loss curve exactly where it stopped (same batches, same numbers).
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dispatch } from '../../../main/api/dispatcher';
import type { JobProgress, JobRecord, RunDetails } from '../../../main/api/contract';
import { createDataset } from '../../../main/catalog/datasets';
import { runImport } from '../../../main/ingest/importer';
import { readCurve } from '../../../main/ml/runs/curve';
import type { AppContext } from '../../../main/app/context';
import { testApp } from '../../helpers/app';
import { repoRoot } from '../../helpers/temp';

let app: AppContext;
let dataDir: string;
let dispose: () => Promise<void>;

beforeAll(async () => {
  ({ app, dataDir, dispose } = testApp('cli'));
  const dataset = createDataset(app.catalog.db, 'Sample (BUSI)');
  await runImport(app.catalog, dataDir, { datasetId: dataset.id, importId: 'job_pretraintestimport', paths: [path.join(repoRoot, 'resources', 'samples')], stride: 1 });
});

afterAll(async () => {
  await dispose?.();
});

async function call<T>(name: Parameters<typeof dispatch>[1], input: unknown): Promise<T> {
  const outcome = await dispatch(app, name, input);
  if (!outcome.ok) throw new Error(`${outcome.error.code}: ${outcome.error.message}`);
  return outcome.result as T;
}

function recordProgress(jobId: () => string | null): { events: JobProgress[]; stop: () => void } {
  const events: JobProgress[] = [];
  const stop = app.events.subscribe((event, payload) => {
    const p = payload as { id: string; progress: JobProgress };
    if (event === 'job.progress' && p.id === jobId()) events.push(p.progress);
  });
  return { events, stop };
}

describe('pretraining job', () => {
  it('lowers the USFM+ loss, keeps tensors flat, and resumes a killed run on the same curve', async () => {
    const steps = 8;
    let currentJob: string | null = null;
    const first = recordProgress(() => currentJob);
    const started = await call<{ run: { id: string }; job: JobRecord }>('pretrain.start', {
      dataset: 'Sample (BUSI)',
      recipe: 'usfm-plus',
      model: 'tiny',
      img: 112,
      steps,
      batch: 4,
      microBatch: 2,
      baseLr: 0.064,
      warmupSteps: 1,
      checkpointEvery: 2,
      previewEvery: 4,
      seed: 5,
    });
    currentJob = started.job.id;
    const runId = started.run.id;

    // Kill the job process (SIGKILL: no chance to save) once step 3 is reported; step 2 is checkpointed.
    await new Promise<void>((resolve, reject) => {
      const timer = setInterval(() => {
        if (first.events.some((e) => e.step >= 3)) {
          clearInterval(timer);
          const pid = app.jobs.get(started.job.id)?.pid;
          if (!pid) return reject(new Error('no pid for the pretraining job'));
          process.kill(pid, 'SIGKILL');
          resolve();
        }
        const job = app.jobs.get(started.job.id);
        if (job && job.state !== 'running' && job.state !== 'queued') {
          clearInterval(timer);
          reject(new Error(`job ended early: ${job.state} ${job.error?.code ?? ''} ${job.error?.message ?? ''}`));
        }
      }, 50);
    });
    const crashed = await app.jobs.waitFor(started.job.id);
    expect(crashed.state).toBe('crashed');
    first.stop();
    const killedAt = Math.max(...first.events.map((e) => e.step));
    expect(killedAt).toBeGreaterThanOrEqual(3);

    const second = recordProgress(() => currentJob);
    const resumed = await call<{ run: { id: string }; job: JobRecord }>('pretrain.resume', { runId });
    currentJob = resumed.job.id;
    const done = await app.jobs.waitFor(resumed.job.id);
    second.stop();
    expect(done.state, `${done.error?.code}: ${done.error?.message}`).toBe('succeeded');

    // The resumed job restarted at the last checkpoint (step 2 or a later even step) and finished the run.
    const resumedSteps = second.events.map((e) => e.step);
    expect(resumedSteps[0]).toBeLessThanOrEqual(killedAt);
    expect(resumedSteps[0]! % 2).toBe(1);
    expect(resumedSteps.at(-1)).toBe(steps);

    // One curve, every step once, in order; recomputed steps equal the ones the killed process reported.
    const run = await call<RunDetails>('pretrain.getRun', { runId });
    const curve = readCurve(path.join(dataDir, 'runs', runId));
    expect(curve.map((p) => p.step)).toEqual(Array.from({ length: steps }, (_, i) => i + 1));
    expect(run.curve.map((p) => p.step)).toEqual(curve.map((p) => p.step));
    for (const e of first.events) expect(curve[e.step - 1]!.loss).toBeCloseTo(e.metrics!.loss!, 5);

    // The loss goes down.
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(curve.slice(-2).map((p) => p.loss))).toBeLessThan(mean(curve.slice(0, 2).map((p) => p.loss)) * 0.9);

    // Every loss term, lr, rate, live tensors and memory are reported; the tensor count is flat.
    for (const events of [first.events, second.events]) {
      expect(Object.keys(events[0]!.metrics!)).toEqual(expect.arrayContaining(['loss', 'loss_ssim', 'loss_l1', 'loss_lsd', 'lr', 'liveTensors', 'residentMB']));
      expect(events[0]!.rateUnit).toBe('images/s');
      const counts = events.slice(1).map((e) => e.metrics!.liveTensors);
      expect(new Set(counts).size, `live tensors per step: ${counts.join(', ')}`).toBe(1);
    }

    // The run record, checkpoints, previews and the registered model.
    expect(run.state).toBe('finished');
    expect(run.step).toBe(steps);
    expect(run.backend).toBe('wasm');
    expect(run.versions.tfjs).toMatch(/^4\./);
    expect(run.manifestHash).toMatch(/^[0-9a-f]{64}$/);
    expect(run.seed).toBe(5);
    // Cone-aware masking is on by default exactly when the dataset has cone masks.
    const cones = (app.catalog.db.prepare('SELECT COUNT(*) AS n FROM cones').get() as { n: number }).n;
    expect(run.config).toMatchObject({ recipe: 'usfm-plus', effectiveBatch: 4, microBatch: 2, totalSteps: steps, coneAware: cones > 0 });
    expect(run.checkpoints.map((c) => c.step)).toEqual([4, 6, 8]);
    expect(run.previews).toEqual([4, 8]);
    const preview = await call<{ dataUrl: string }>('pretrain.preview', { runId });
    expect(preview.dataUrl.startsWith('data:image/png;base64,')).toBe(true);
    const models = await call<{ id: string; runId: string | null; source: string }[]>('weights.list', {});
    const model = models.find((m) => m.runId === runId);
    expect(model?.source).toBe('pretrained');
    expect(fs.existsSync(path.join(dataDir, 'models', model!.id, 'model.safetensors'))).toBe(true);
  });
});
