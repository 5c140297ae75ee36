/**
 * Training checkpoints in a run folder:
 *   step-000120.safetensors        model weights, PyTorch names, F32 (what PyTorch / timm load directly)
 *   step-000120.train.safetensors  optimizer moments (`exp_avg.<name>`, `exp_avg_sq.<name>`) and, in the
 *                                  metadata, the training state (step, schedule, RNG, loss)
 *   checkpoints.json               the complete checkpoints, newest last, and the best one
 * Each file is written atomically (temporary file, fsync, rename); the index is written last, so a kill
 * at any moment leaves the previous index pointing at complete files.
 */
import fs from 'node:fs';
import path from 'node:path';
import { float32Tensor, readSafetensors, toFloat32, writeSafetensors, type NamedTensor } from '../../weights/safetensors';
import { writeFileAtomic } from '../../util/atomic-write';

export interface TrainingState {
  /** Optimizer steps completed. */
  step: number;
  totalSteps: number;
  /** Mean loss over the steps since the previous checkpoint. */
  loss: number;
  /** Seeded streams are derived from (seed, step): the seed is the whole RNG state. */
  rng: { seed: number; algorithm: 'sfc32-stream'; step: number };
  schedule: { lr: number; warmupSteps: number; totalSteps: number; peakLr: number; minLr: number };
  optimizerStep: number;
  savedAt: string;
}

export interface CheckpointEntry {
  step: number;
  loss: number;
  model: string;
  train: string;
  savedAt: string;
}

export interface CheckpointIndex {
  checkpoints: CheckpointEntry[];
  best: CheckpointEntry | null;
}

export interface CheckpointPayload {
  model: Map<string, { shape: number[]; values: Float32Array }>;
  moments: Map<string, { expAvg: Float32Array; expAvgSq: Float32Array }>;
  state: TrainingState;
  /** String metadata stored with the model weights (recipe, model config, run id...). */
  modelMetadata: Record<string, string>;
}

const INDEX = 'checkpoints.json';

export function readCheckpointIndex(dir: string): CheckpointIndex {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, INDEX), 'utf8')) as CheckpointIndex;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { checkpoints: [], best: null };
    throw err;
  }
}

function stepName(step: number): string {
  return `step-${String(step).padStart(6, '0')}`;
}

/** Write a checkpoint, update the index, and delete the ones beyond the last `keepLast` (the best stays). */
export function saveCheckpoint(dir: string, payload: CheckpointPayload, keepLast: number): CheckpointEntry {
  fs.mkdirSync(dir, { recursive: true });
  const base = stepName(payload.state.step);
  const modelFile = `${base}.safetensors`;
  const trainFile = `${base}.train.safetensors`;
  const modelTensors = new Map<string, NamedTensor>();
  for (const [name, t] of payload.model) modelTensors.set(name, float32Tensor(t.shape, t.values));
  const trainTensors = new Map<string, NamedTensor>();
  for (const [name, m] of payload.moments) {
    const shape = payload.model.get(name)?.shape ?? [m.expAvg.length];
    trainTensors.set(`exp_avg.${name}`, float32Tensor(shape, m.expAvg));
    trainTensors.set(`exp_avg_sq.${name}`, float32Tensor(shape, m.expAvgSq));
  }
  writeSafetensors(path.join(dir, trainFile), trainTensors, { format: 'usfm-train-state', state: JSON.stringify(payload.state) });
  writeSafetensors(path.join(dir, modelFile), modelTensors, { format: 'pt', ...payload.modelMetadata });
  const entry: CheckpointEntry = { step: payload.state.step, loss: payload.state.loss, model: modelFile, train: trainFile, savedAt: payload.state.savedAt };
  const index = readCheckpointIndex(dir);
  const checkpoints = [...index.checkpoints.filter((c) => c.step !== entry.step && c.step < entry.step), entry];
  let best = index.best && index.best.step < entry.step ? index.best : null;
  if (Number.isFinite(entry.loss) && (!best || entry.loss <= best.loss)) best = entry;
  const kept = checkpoints.slice(-Math.max(1, keepLast));
  const next: CheckpointIndex = { checkpoints: kept, best };
  writeFileAtomic(path.join(dir, INDEX), `${JSON.stringify(next, null, 2)}\n`);
  // Delete files no longer referenced (after the index no longer names them).
  const referenced = new Set(kept.flatMap((c) => [c.model, c.train]).concat(best ? [best.model, best.train] : []));
  for (const c of index.best ? [...checkpoints, index.best] : checkpoints) {
    for (const f of [c.model, c.train]) if (!referenced.has(f)) fs.rmSync(path.join(dir, f), { force: true });
  }
  return entry;
}

export interface LoadedCheckpoint {
  model: Map<string, { shape: number[]; values: Float32Array }>;
  modelMetadata: Record<string, string>;
  moments: Map<string, { expAvg: Float32Array; expAvgSq: Float32Array }>;
  state: TrainingState | null;
}

/** Read model weights (any safetensors file with PyTorch names) and, when present, the training state beside it. */
export function loadCheckpoint(modelFile: string, trainFile?: string | null): LoadedCheckpoint {
  const weights = readSafetensors(modelFile);
  const model = new Map<string, { shape: number[]; values: Float32Array }>();
  for (const [name, t] of weights.tensors) model.set(name, { shape: t.shape, values: toFloat32(t) });
  const moments = new Map<string, { expAvg: Float32Array; expAvgSq: Float32Array }>();
  let state: TrainingState | null = null;
  if (trainFile && fs.existsSync(trainFile)) {
    const train = readSafetensors(trainFile);
    for (const [name, t] of train.tensors) {
      if (!name.startsWith('exp_avg.')) continue;
      const param = name.slice('exp_avg.'.length);
      const sq = train.tensors.get(`exp_avg_sq.${param}`);
      if (sq) moments.set(param, { expAvg: toFloat32(t), expAvgSq: toFloat32(sq) });
    }
    if (train.metadata.state) state = JSON.parse(train.metadata.state) as TrainingState;
  }
  return { model, modelMetadata: weights.metadata, moments, state };
}

/** The newest complete checkpoint of a run folder, or null. */
export function latestCheckpoint(dir: string, options: { weightsOnly: true }): { entry: CheckpointEntry } | null;
export function latestCheckpoint(dir: string, options?: { weightsOnly?: false }): { entry: CheckpointEntry; checkpoint: LoadedCheckpoint } | null;
export function latestCheckpoint(dir: string, options: { weightsOnly?: boolean } = {}): { entry: CheckpointEntry; checkpoint?: LoadedCheckpoint } | null {
  const index = readCheckpointIndex(dir);
  for (const entry of [...index.checkpoints].reverse()) {
    const modelPath = path.join(dir, entry.model);
    const trainPath = path.join(dir, entry.train);
    if (!fs.existsSync(modelPath) || !fs.existsSync(trainPath)) continue;
    return options.weightsOnly ? { entry } : { entry, checkpoint: loadCheckpoint(modelPath, trainPath) };
  }
  return null;
}
