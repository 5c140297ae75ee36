import { z } from 'zod';
import { defineCall } from './define';
import { JobRecord } from './jobs';

export const RecipeName = z.enum(['mae', 'usfm', 'usfm-plus']);
export const ModelSize = z.enum(['tiny', 'small', 'base']);

export const PretrainRequest = z
  .object({
    /** Dataset id or name. */
    dataset: z.string().trim().min(1).max(200),
    recipe: RecipeName,
    model: ModelSize,
    img: z.union([z.literal(112), z.literal(224)]).default(224),
    /** One of epochs / steps (optimizer steps); default 1 epoch. */
    epochs: z.number().int().min(1).max(100_000).optional(),
    steps: z.number().int().min(1).max(10_000_000).optional(),
    /** Effective batch (images per optimizer step). */
    batch: z.number().int().min(1).max(65_536).default(64),
    /** Images per forward/backward pass; gradients are accumulated up to `batch`. */
    microBatch: z.number().int().min(1).max(4096).optional(),
    /** Start from these weights: a model id (mdl_…), a run id (run_…, its latest checkpoint) or a .safetensors file. */
    init: z.string().trim().min(1).max(4096).optional(),
    /** Cone-aware masking: auto = on when the dataset has cone masks. */
    coneAware: z.enum(['auto', 'on', 'off']).default('auto'),
    seed: z.number().int().min(0).max(2 ** 31 - 1).default(0),
    fill: z.enum(['frequency', 'mean', 'token']).optional(),
    alpha: z.number().min(0).max(1000).optional(),
    baseLr: z.number().positive().max(1).optional(),
    weightDecay: z.number().min(0).max(10).optional(),
    warmupSteps: z.number().int().min(0).optional(),
    maskRatio: z.number().gt(0).lt(1).optional(),
    clipNorm: z.number().min(0).optional(),
    dropPath: z.number().min(0).lt(1).optional(),
    layout: z.enum(['timm', 'beit']).optional(),
    checkpointEvery: z.number().int().min(1).optional(),
    keepCheckpoints: z.number().int().min(1).max(100).default(3),
    previewEvery: z.number().int().min(1).optional(),
  })
  .strict()
  .refine((r) => !(r.epochs !== undefined && r.steps !== undefined), { message: 'give either epochs or steps, not both' });
export type PretrainRequest = z.infer<typeof PretrainRequest>;

export const RunId = z.string().regex(/^run_[0-9a-z]{6,40}$/, 'not a run id');
export const RunState = z.enum(['created', 'running', 'stopped', 'finished', 'failed']);

export const RunSummary = z.object({
  id: RunId,
  jobId: z.string().nullable(),
  recipe: z.string().nullable(),
  model: z.string(),
  imgSize: z.number().int(),
  datasetId: z.string().nullable(),
  datasetName: z.string(),
  manifestHash: z.string().nullable(),
  seed: z.number().int().nullable(),
  backend: z.string().nullable(),
  versions: z.record(z.string(), z.string()),
  state: RunState,
  step: z.number().int(),
  totalSteps: z.number().int().nullable(),
  bestLoss: z.number().nullable(),
  metrics: z.record(z.string(), z.unknown()).nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type RunSummary = z.infer<typeof RunSummary>;

export const CurvePoint = z.object({
  step: z.number().int(),
  loss: z.number(),
  terms: z.record(z.string(), z.number()),
  lr: z.number(),
  gradNorm: z.number(),
  imagesPerSecond: z.number(),
  time: z.string(),
});

export const RunDetails = RunSummary.extend({
  /** The full resolved configuration the run trains with. */
  config: z.record(z.string(), z.unknown()),
  curve: z.array(CurvePoint),
  checkpoints: z.array(z.object({ step: z.number().int(), loss: z.number().nullable(), file: z.string(), savedAt: z.string() })),
  bestCheckpoint: z.object({ step: z.number().int(), loss: z.number().nullable(), file: z.string() }).nullable(),
  /** Steps with a reconstruction preview. */
  previews: z.array(z.number().int()),
});
export type RunDetails = z.infer<typeof RunDetails>;

export const PreviewResult = z.object({
  runId: RunId,
  step: z.number().int(),
  /** PNG: one row per image; columns original, encoder input, reconstruction. */
  dataUrl: z.string(),
  columns: z.array(z.string()),
});

const StartResult = z.object({ run: RunSummary, job: JobRecord });

export const pretrainCalls = {
  'pretrain.start': defineCall(
    'Start a pretraining run (MAE, USFM or USFM+) on a dataset as a job; the run records its configuration, dataset manifest, seed, backend and versions.',
    PretrainRequest,
    StartResult,
  ),
  'pretrain.resume': defineCall(
    'Continue a stopped, failed or killed run from its latest checkpoint; its loss curve continues where it stopped.',
    z.object({ runId: RunId }).strict(),
    StartResult,
  ),
  'pretrain.listRuns': defineCall(
    'Pretraining runs, newest first.',
    z.object({ limit: z.number().int().min(1).max(500).default(50), state: RunState.optional() }).strict(),
    z.array(RunSummary),
  ),
  'pretrain.getRun': defineCall(
    'One run with its configuration, loss curve (at most maxPoints points, bucket means), checkpoints and previews.',
    z.object({ runId: RunId, maxPoints: z.number().int().min(10).max(100_000).default(2000) }).strict(),
    RunDetails,
  ),
  'pretrain.preview': defineCall(
    'A reconstruction preview of a run (the newest, or the one at `step`) as a PNG data URL.',
    z.object({ runId: RunId, step: z.number().int().min(1).optional() }).strict(),
    PreviewResult,
  ),
};
