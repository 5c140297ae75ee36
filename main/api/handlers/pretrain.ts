import path from 'node:path';
import type { JobRecord } from '../contract/jobs';
import type { pretrainCalls, PretrainRequest, RunSummary } from '../contract/pretrain';
import type { HandlerSet } from './types';
import { ApiError } from '../errors';
import type { AppContext } from '../../app/context';
import { resolveDataset } from '../../catalog/datasets';
import { resolveConfig, type ResolvedPretrainConfig } from '../../ml/pretrain/config';
import { openPretrainSource } from '../../ml/pretrain/data';
import { InitError, inspectInit, locateInit } from '../../ml/pretrain/init-weights';
import { listPreviews, readPreview } from '../../ml/pretrain/previews';
import { VIT_WIDTHS } from '../../ml/pretrain/recipes';
import { downsampleCurve, readCurve } from '../../ml/runs/curve';
import { newRunId, runDirFor, RunStore, type RunRecord } from '../../ml/runs/run-store';
import { readCheckpointIndex } from '../../ml/train/checkpoint';

function summary(run: RunRecord, ctx?: AppContext): RunSummary {
  const c = run.config as Partial<ResolvedPretrainConfig>;
  // A run whose job process died (killed, power loss) still says 'running' in the catalog: it is stopped.
  const state = ctx && run.state === 'running' && !isRunning(ctx, run) ? 'stopped' : run.state;
  return {
    id: run.id,
    jobId: run.jobId,
    recipe: run.recipe,
    model: c.size ?? 'unknown',
    imgSize: c.imgSize ?? 0,
    datasetId: run.datasetId,
    datasetName: c.datasetName ?? '',
    manifestHash: run.manifestHash,
    seed: run.seed,
    backend: run.backend,
    versions: run.versions,
    state,
    step: run.step,
    totalSteps: run.totalSteps,
    bestLoss: run.bestLoss,
    metrics: run.metrics,
    createdAt: run.createdAt,
    updatedAt: run.updatedAt,
  };
}

function getRunOr404(ctx: AppContext, runId: string): RunRecord {
  const run = new RunStore(ctx.catalog.db).get(runId);
  if (!run || run.kind !== 'pretrain') throw new ApiError('NOT_FOUND', `no pretraining run ${runId}`);
  return run;
}

function title(config: ResolvedPretrainConfig, runId: string, resumed = false): string {
  return `${resumed ? 'Resume' : 'Pretrain'} ${config.recipe} ViT-${config.size} ${config.imgSize}px on ${config.datasetName} (${runId})`;
}

function isRunning(ctx: AppContext, run: RunRecord): boolean {
  if (!run.jobId) return false;
  const job = ctx.jobs.get(run.jobId);
  return job !== null && (job.state === 'queued' || job.state === 'running');
}

function startJob(ctx: AppContext, runId: string, jobTitle: string): { run: RunSummary; job: JobRecord } {
  const store = new RunStore(ctx.catalog.db);
  const job = ctx.jobs.start('pretrain', { runId }, jobTitle);
  store.update(runId, { jobId: job.id });
  return { run: summary(store.get(runId)!, ctx), job };
}

/** Validates the request, resolves the configuration and records the run (state 'created'); the caller starts its job. */
export function createPretrainRun(input: PretrainRequest, ctx: AppContext): { runId: string; title: string } {
  const db = ctx.catalog.db;
  const dataset = resolveDataset(db, input.dataset);
  if (!dataset) throw new ApiError('NOT_FOUND', `no dataset "${input.dataset}"`);
  const source = openPretrainSource(db, ctx.dataDir, dataset.id);
  if (source.items.length === 0) throw new ApiError('BAD_INPUT', `dataset "${dataset.name}" has no items to train on`);
  let request = input;
  if (input.init) {
    try {
      const located = locateInit(db, ctx.dataDir, input.init);
      const found = inspectInit(located.file);
      if (found.embedDim !== null && found.embedDim !== VIT_WIDTHS[input.model]) {
        throw new ApiError('BAD_INPUT', `${located.label} is a ${found.embedDim}-wide ViT; model ${input.model} is ${VIT_WIDTHS[input.model]} wide`);
      }
      if (!input.layout && found.layout) request = { ...input, layout: found.layout };
      if (located.kind === 'file') request = { ...request, init: located.file };
    } catch (err) {
      if (err instanceof InitError) throw new ApiError(err.code, err.message);
      throw err;
    }
  }
  const config = resolveConfig(request, { id: dataset.id, name: dataset.name, itemCount: source.items.length, hasCones: source.hasCones });
  const id = newRunId();
  new RunStore(db).create({
    id,
    jobId: null,
    kind: 'pretrain',
    recipe: config.recipe,
    config: config as unknown as Record<string, unknown>,
    datasetId: dataset.id,
    manifestHash: source.manifestHash,
    seed: config.seed,
    backend: null,
    versions: {},
    totalSteps: config.totalSteps,
    dir: runDirFor(id),
    state: 'created',
  });
  return { runId: id, title: title(config, id) };
}

/** Checks that a run can be resumed; the caller starts its job. */
export function prepareResume(runId: string, ctx: AppContext): { runId: string; title: string } {
  const run = getRunOr404(ctx, runId);
  if (isRunning(ctx, run)) throw new ApiError('CONFLICT', `run ${run.id} is already running (job ${run.jobId})`);
  if (run.state === 'finished') throw new ApiError('CONFLICT', `run ${run.id} has finished; start a new run from its weights with init ${run.id}`);
  return { runId: run.id, title: title(run.config as unknown as ResolvedPretrainConfig, run.id, true) };
}

export const pretrainHandlers: HandlerSet<keyof typeof pretrainCalls> = {
  'pretrain.start'(input, ctx) {
    const { runId, title } = createPretrainRun(input, ctx);
    return startJob(ctx, runId, title);
  },

  'pretrain.resume'(input, ctx) {
    const { runId, title } = prepareResume(input.runId, ctx);
    return startJob(ctx, runId, title);
  },

  'pretrain.listRuns'(input, ctx) {
    return new RunStore(ctx.catalog.db)
      .list({ kind: 'pretrain', limit: input.limit })
      .map((r) => summary(r, ctx))
      .filter((r) => !input.state || r.state === input.state);
  },

  'pretrain.getRun'(input, ctx) {
    const run = getRunOr404(ctx, input.runId);
    const dir = path.join(ctx.dataDir, run.dir);
    const index = readCheckpointIndex(dir);
    const finite = (v: number): number | null => (Number.isFinite(v) ? v : null);
    return {
      ...summary(run, ctx),
      config: run.config,
      curve: downsampleCurve(readCurve(dir), input.maxPoints),
      checkpoints: index.checkpoints.map((c) => ({ step: c.step, loss: finite(c.loss), file: c.model, savedAt: c.savedAt })),
      bestCheckpoint: index.best ? { step: index.best.step, loss: finite(index.best.loss), file: index.best.model } : null,
      previews: listPreviews(dir),
    };
  },

  'pretrain.preview'(input, ctx) {
    const run = getRunOr404(ctx, input.runId);
    const dir = path.join(ctx.dataDir, run.dir);
    const step = input.step ?? listPreviews(dir).at(-1);
    const png = step === undefined ? null : readPreview(dir, step);
    if (!png || step === undefined) throw new ApiError('NOT_FOUND', input.step ? `run ${run.id} has no preview at step ${input.step}` : `run ${run.id} has no preview yet`);
    return { runId: run.id, step, dataUrl: `data:image/png;base64,${png.toString('base64')}`, columns: ['original', 'encoder input', 'reconstruction'] };
  },
};
