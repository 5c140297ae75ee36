/**
 * The pretraining loop of one run, from its recorded configuration: model and optimizer (fresh, from
 * `init`, or restored from the run's latest checkpoint), deterministic prefetched batches, accumulated
 * optimizer steps, the loss curve, progress per step, checkpoints every N steps and at the end,
 * previews every K steps, and a clean stop (checkpoint first) when asked.
 */
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { Database } from 'better-sqlite3';
import type { JobProgress } from '../../api/contract';
import { saveModel } from '../../weights/model-registry';
import type { ModelConfig } from '../../weights/model-config';
import { AdamW } from '../train/adamw';
import { resizeWhole, type GreyImage } from '../train/augment';
import { prepareTrainingBackend } from '../train/backend-setup';
import { latestCheckpoint, saveCheckpoint, type TrainingState } from '../train/checkpoint';
import { Rng } from '../train/rng';
import { learningRate, type LrSchedule } from '../train/schedule';
import { appendCurve, truncateCurve } from '../runs/curve';
import { RunStore, type RunRecord } from '../runs/run-store';
import { loadStateDict, type StateDict } from '../vit';
import { prepareBatch, type HostBatch, type MaskingSettings } from './batch';
import type { ResolvedPretrainConfig } from './config';
import { openPretrainSource, type PretrainSource } from './data';
import { applyInit } from './init-apply';
import { PrefetchLoader } from './loader';
import { createPretrainModel, disposePretrainModel, encoderConfig, trainableOf, type PretrainModel } from './model';
import { recipeObjective } from './objective';
import { previewPng, writePreview } from './previews';
import { NonFiniteLossError, optimizerStep } from './step';

export interface TrainerHooks {
  progress(progress: JobProgress): void;
  log(level: 'debug' | 'info' | 'warn' | 'error', message: string): void;
  stopReason(): 'cancel' | 'shutdown' | null;
}

export interface TrainerEnv {
  db: Database;
  dataDir: string;
  jobId: string | null;
  settings: { backend?: unknown; wasmThreads?: unknown };
}

/** Expected failures, with a code the job reports. */
export class TrainingFailure extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'TrainingFailure';
  }
}

export class TrainingStopped extends Error {
  constructor(readonly reason: 'cancel' | 'shutdown') {
    super(`training stopped (${reason})`);
    this.name = 'TrainingStopped';
  }
}

/** A step given up half-way (stop requested between micro-batches); nothing of it was applied. */
class StepAbandoned extends Error {}

export interface PretrainResult {
  runId: string;
  steps: number;
  loss: number | null;
  bestLoss: number | null;
  modelId: string | null;
  checkpoint: string | null;
}

const PREVIEW_IMAGES = 4;

function maskingOf(c: ResolvedPretrainConfig): MaskingSettings {
  return { recipe: c.recipe, maskRatio: c.maskRatio, maskBlockPixels: c.maskBlockPixels, coneAware: c.coneAware, fill: c.fill, stoppedBandFraction: c.stoppedBandFraction };
}

function scheduleOf(c: ResolvedPretrainConfig): LrSchedule {
  return { peakLr: c.peakLr, minLr: c.minLr, warmupSteps: c.warmupSteps, totalSteps: c.totalSteps };
}

function modelState(model: PretrainModel): Map<string, { shape: number[]; values: Float32Array }> {
  const out = new Map<string, { shape: number[]; values: Float32Array }>();
  for (const [name, v] of model.params) out.set(name, { shape: [...v.shape], values: v.dataSync() as Float32Array });
  return out;
}

/** The fixed preview images: the first items, whole (no crop), with a fixed mask draw. */
async function previewBatch(source: PretrainSource, size: number): Promise<HostBatch> {
  const items = source.items.slice(0, PREVIEW_IMAGES);
  const loaded = await Promise.all(items.map((item) => source.load(item)));
  const pixels = new Float32Array(items.length * size * size);
  const cones: (Float32Array | null)[] = [];
  loaded.forEach(({ image, cone }, j) => {
    pixels.set(resizeWhole(image, size), j * size * size);
    cones.push(cone ? binarise(resizeWhole(cone as GreyImage, size)) : null);
  });
  return { batch: items.length, size, pixels, cones, itemIds: items.map((i) => String(i.itemId)) };
}

function binarise(values: Float32Array): Float32Array {
  for (let i = 0; i < values.length; i++) values[i] = values[i]! >= 0.5 ? 1 : 0;
  return values;
}

function renderPreview(model: PretrainModel, config: ResolvedPretrainConfig, host: HostBatch): Buffer {
  const prepared = prepareBatch(Rng.stream(config.seed, 'preview', 0), host, maskingOf(config));
  try {
    const panels = tf.tidy(() => {
      const { inputs } = prepared;
      const out = recipeObjective(model, inputs, { alpha: config.alpha, training: false }, true);
      // MAE's encoder sees the visible patches only: show the masked ones dark.
      const seen = inputs.corrupted ? tf.clone(inputs.corrupted) : tf.mul(inputs.images, tf.sub(1, tf.mul(inputs.maskedPixels, 0.8)));
      return [tf.clone(inputs.images), seen, out.reconstruction!];
    });
    // Read outside the tidy: a returned typed array would be walked element by element for tensors.
    const [original, shown, reconstruction] = panels.map((t) => t.dataSync() as Float32Array);
    tf.dispose(panels);
    const plane = host.size * host.size;
    const rows = Array.from({ length: host.batch }, (_, b) => [original!, shown!, reconstruction!].map((a) => a.subarray(b * plane, (b + 1) * plane)));
    return previewPng(rows, host.size);
  } finally {
    prepared.dispose();
  }
}

function registeredConfig(model: PretrainModel): ModelConfig {
  const vit = encoderConfig(model.config);
  const dec = model.config.decoder;
  return dec ? { vit, decoder: { embedDim: dec.dim, depth: dec.depth, numHeads: dec.heads, mlpRatio: 4, posEmbed: 'sincos', outChans: 1 } } : { vit };
}

/** The model's tensors that the registry's configuration describes (encoder, plus MAE's decoder). */
function registeredTensors(model: PretrainModel): StateDict {
  const out: StateDict = new Map();
  const keep = model.config.recipe === 'mae' ? model.params : model.encoder.params;
  for (const [name, v] of keep) out.set(name, { shape: [...v.shape], data: v.dataSync() as Float32Array });
  return out;
}

export async function trainRun(runId: string, env: TrainerEnv, hooks: TrainerHooks): Promise<PretrainResult> {
  const store = new RunStore(env.db);
  const run = store.get(runId);
  if (!run) throw new TrainingFailure('NOT_FOUND', `no run ${runId}`);
  const config = run.config as unknown as ResolvedPretrainConfig;
  const runDir = path.join(env.dataDir, run.dir);
  const { report, versions } = await prepareTrainingBackend(env.settings);
  hooks.log('info', `pretraining ${config.recipe} ViT-${config.size} ${config.imgSize}px on ${report.active}${report.threads ? ` (${report.threads} thread(s))` : ''}`);

  const source = openPretrainSource(env.db, env.dataDir, config.datasetId);
  if (source.items.length === 0) throw new TrainingFailure('EMPTY_DATASET', `dataset "${config.datasetName}" has no items to train on`);
  if (run.manifestHash && run.manifestHash !== source.manifestHash) {
    throw new TrainingFailure('DATASET_CHANGED', `the items of dataset "${config.datasetName}" changed since this run started; start a new run to train on them`);
  }

  const model = createPretrainModel(
    { recipe: config.recipe, size: config.size, imgSize: config.imgSize, layout: config.layout, fill: config.fill, dropPathRate: config.dropPathRate, decoder: config.decoder },
    config.seed,
  );
  const trainable = trainableOf(model);
  const optimizer = new AdamW(trainable, { beta1: config.beta1, beta2: config.beta2, eps: config.eps, weightDecay: config.weightDecay });
  const loader = new PrefetchLoader(source, { seed: config.seed, size: config.imgSize, cropScale: config.cropScale, effectiveBatch: config.effectiveBatch, microBatch: config.microBatch });
  try {
    let startStep = 0;
    let bestLoss: number | null = run.bestLoss;
    const resumed = latestCheckpoint(runDir);
    if (resumed) {
      const state: StateDict = new Map();
      for (const [name, t] of resumed.checkpoint.model) state.set(name, { shape: t.shape, data: t.values });
      loadStateDict(model, state, { strict: true });
      if (resumed.checkpoint.state) {
        optimizer.importState({ step: resumed.checkpoint.state.optimizerStep, moments: resumed.checkpoint.moments });
        startStep = resumed.checkpoint.state.step;
      }
      truncateCurve(runDir, startStep);
      hooks.log('info', `resuming run ${runId} at step ${startStep} of ${config.totalSteps}`);
    } else {
      truncateCurve(runDir, 0);
      if (config.init) {
        const init = applyInit(model, env.db, env.dataDir, config.init);
        hooks.log('info', `initialised from ${init.label}: ${init.loaded} tensors loaded, ${init.missing.length} kept fresh`);
      }
    }
    store.update(runId, { state: 'running', jobId: env.jobId, backend: report.active, versions, step: startStep });

    const schedule = scheduleOf(config);
    const masking = maskingOf(config);
    const preview = await previewBatch(source, config.imgSize);
    let lastSaved = resumed ? startStep : -1;
    let windowLoss = 0;
    let windowSteps = 0;
    let lastLoss: number | null = null;
    const started = performance.now();
    let imagesDone = 0;

    const checkpoint = (step: number): void => {
      const loss = windowSteps > 0 ? windowLoss / windowSteps : (lastLoss ?? Number.NaN);
      const state: TrainingState = {
        step,
        totalSteps: config.totalSteps,
        loss,
        rng: { seed: config.seed, algorithm: 'sfc32-stream', step },
        schedule: { lr: learningRate(schedule, Math.max(0, step - 1)), ...schedule },
        optimizerStep: optimizer.step,
        savedAt: new Date().toISOString(),
      };
      const entry = saveCheckpoint(
        runDir,
        { model: modelState(model), moments: optimizer.exportState().moments, state, modelMetadata: { run_id: runId, recipe: config.recipe, config: JSON.stringify(registeredConfig(model)), step: String(step) } },
        config.keepCheckpoints,
      );
      if (Number.isFinite(loss) && (bestLoss === null || loss < bestLoss)) bestLoss = loss;
      store.update(runId, { step, bestLoss: bestLoss ?? undefined });
      lastSaved = step;
      windowLoss = 0;
      windowSteps = 0;
      hooks.log('debug', `checkpoint ${entry.model} (loss ${loss.toFixed(4)})`);
    };

    const stopAt = (step: number, reason: 'cancel' | 'shutdown'): never => {
      if (step > lastSaved) checkpoint(step);
      store.update(runId, { state: 'stopped', step });
      throw new TrainingStopped(reason);
    };
    for (let step = startStep; step < config.totalSteps; step++) {
      const reason = hooks.stopReason();
      if (reason) stopAt(step, reason);
      const lr = learningRate(schedule, step);
      const stepStart = performance.now();
      const micro = async function* (this: void) {
        for (let m = 0; m < loader.microPerStep; m++) {
          // A long accumulated step is abandoned between micro-batches so a stop request is served in time.
          if (m > 0 && hooks.stopReason()) throw new StepAbandoned();
          const host = await loader.get(step, m);
          yield {
            batch: prepareBatch(Rng.stream(config.seed, 'mask', step, m), host, masking),
            size: host.batch,
            settings: { alpha: config.alpha, training: true, dropPathRng: Rng.stream(config.seed, 'droppath', step, m) },
          };
        }
      };
      let result;
      try {
        result = await optimizerStep(model, trainable, optimizer, micro(), config.effectiveBatch, lr, config.clipNorm);
      } catch (err) {
        if (err instanceof StepAbandoned) stopAt(step, hooks.stopReason() ?? 'cancel');
        if (err instanceof NonFiniteLossError) {
          store.update(runId, { state: 'failed', step, metrics: { error: 'NON_FINITE_LOSS', at: step + 1 } });
          throw new TrainingFailure(
            'NON_FINITE_LOSS',
            `the ${err.what} became ${err.value} at step ${step + 1}; training stopped without applying it. ` +
              (lastSaved >= 0 ? `The last good checkpoint (step ${lastSaved}) is kept: resume it with a lower learning rate or stronger clipping.` : 'No checkpoint was written yet.'),
          );
        }
        throw err;
      }
      const seconds = (performance.now() - stepStart) / 1000;
      imagesDone += config.effectiveBatch;
      const elapsed = (performance.now() - started) / 1000;
      const imagesPerSecond = imagesDone / elapsed;
      lastLoss = result.loss;
      windowLoss += result.loss;
      windowSteps += 1;
      const done = step + 1;
      appendCurve(runDir, { step: done, loss: result.loss, terms: result.terms, lr, gradNorm: result.gradNorm, imagesPerSecond: config.effectiveBatch / seconds, time: new Date().toISOString() });
      const memory = process.memoryUsage();
      hooks.progress({
        phase: 'pretraining',
        step: done,
        total: config.totalSteps,
        rate: imagesPerSecond,
        rateUnit: 'images/s',
        etaSeconds: ((config.totalSteps - done) * config.effectiveBatch) / imagesPerSecond,
        metrics: {
          loss: result.loss,
          ...Object.fromEntries(Object.entries(result.terms).map(([k, v]) => [`loss_${k}`, v])),
          lr,
          gradNorm: result.gradNorm,
          liveTensors: tf.memory().numTensors,
          residentMB: Math.round(memory.rss / 1048576),
          tensorMB: Math.round(tf.memory().numBytes / 1048576),
        },
      });
      if (done % config.previewEvery === 0 || done === config.totalSteps) writePreview(runDir, done, renderPreview(model, config, preview));
      if (done % config.checkpointEvery === 0 || done === config.totalSteps) checkpoint(done);
    }

    const metrics = { loss: lastLoss, bestLoss, steps: config.totalSteps };
    let modelId: string | null = null;
    if (config.totalSteps > startStep || !run.metrics?.modelId) {
      const record = saveModel(env.db, env.dataDir, {
        name: `${config.recipe} ViT-${config.size} ${config.imgSize}px on ${config.datasetName} (${runId})`,
        source: 'pretrained',
        task: config.recipe === 'mae' ? 'pretrain' : 'backbone',
        config: registeredConfig(model),
        tensors: registeredTensors(model),
        runId,
        metadata: { recipe: config.recipe, datasetManifestHash: source.manifestHash, metrics, provenance: { runId, dataset: config.datasetName } },
      });
      modelId = record.id;
    }
    store.update(runId, { state: 'finished', step: config.totalSteps, metrics: { ...metrics, modelId } });
    const latest = latestCheckpoint(runDir, { weightsOnly: true });
    return { runId, steps: config.totalSteps, loss: lastLoss, bestLoss, modelId, checkpoint: latest?.entry.model ?? null };
  } catch (err) {
    if (!(err instanceof TrainingStopped) && !(err instanceof TrainingFailure && err.code === 'NON_FINITE_LOSS')) {
      const current = store.get(runId);
      if (current?.state === 'running') store.update(runId, { state: 'failed' });
    }
    throw err;
  } finally {
    loader.close();
    optimizer.dispose();
    disposePretrainModel(model);
  }
}

export type { RunRecord };
