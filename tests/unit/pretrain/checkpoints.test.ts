import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  latestCheckpoint,
  readCheckpointIndex,
  saveCheckpoint,
  type TrainingState,
} from '../../../main/ml/train/checkpoint';
import { appendCurve, downsampleCurve, readCurve, truncateCurve } from '../../../main/ml/runs/curve';
import { readSafetensors } from '../../../main/weights/safetensors';
import { tempDir } from '../../helpers/temp';

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

function state(step: number, loss: number): TrainingState {
  return {
    step,
    totalSteps: 100,
    loss,
    rng: { seed: 3, algorithm: 'sfc32-stream', step },
    schedule: { lr: 1e-3, warmupSteps: 5, totalSteps: 100, peakLr: 1e-3, minLr: 0 },
    optimizerStep: step,
    savedAt: new Date().toISOString(),
  };
}

function payload(step: number, loss: number) {
  const w = Float32Array.from({ length: 6 }, (_, i) => i + step);
  return {
    model: new Map([['blocks.0.mlp.fc1.weight', { shape: [2, 3], values: w }]]),
    moments: new Map([
      ['blocks.0.mlp.fc1.weight', { expAvg: w.map((v) => v / 10), expAvgSq: w.map((v) => v / 100) }],
    ]),
    state: state(step, loss),
    modelMetadata: { recipe: 'mae' },
  };
}

describe('checkpoints', () => {
  it('round-trip weights (PyTorch names), optimizer moments and training state', () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    saveCheckpoint(dir, payload(10, 0.5), 3);
    const latest = latestCheckpoint(dir)!;
    expect(latest.entry.step).toBe(10);
    expect(Array.from(latest.checkpoint.model.get('blocks.0.mlp.fc1.weight')!.values)).toEqual([
      10, 11, 12, 13, 14, 15,
    ]);
    expect(latest.checkpoint.moments.get('blocks.0.mlp.fc1.weight')!.expAvgSq[1]).toBeCloseTo(0.11, 6);
    expect(latest.checkpoint.state).toMatchObject({ step: 10, optimizerStep: 10, rng: { seed: 3 } });
    // The weights file holds the model tensors only, under their PyTorch names.
    const weights = readSafetensors(path.join(dir, latest.entry.model));
    expect([...weights.tensors.keys()]).toEqual(['blocks.0.mlp.fc1.weight']);
    expect(weights.metadata.format).toBe('pt');
  });

  it('keeps the last k and the best, deleting the others', () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const losses = [0.9, 0.3, 0.6, 0.7, 0.8];
    losses.forEach((loss, i) => saveCheckpoint(dir, payload((i + 1) * 10, loss), 2));
    const index = readCheckpointIndex(dir);
    expect(index.checkpoints.map((c) => c.step)).toEqual([40, 50]);
    expect(index.best?.step).toBe(20);
    const files = fs
      .readdirSync(dir)
      .filter((f) => f.endsWith('.safetensors'))
      .sort();
    expect(files).toEqual([
      'step-000020.safetensors',
      'step-000020.train.safetensors',
      'step-000040.safetensors',
      'step-000040.train.safetensors',
      'step-000050.safetensors',
      'step-000050.train.safetensors',
    ]);
    // A better checkpoint replaces the best; the old best's files go.
    saveCheckpoint(dir, payload(60, 0.1), 2);
    expect(readCheckpointIndex(dir).best?.step).toBe(60);
    expect(fs.existsSync(path.join(dir, 'step-000020.safetensors'))).toBe(false);
    // No temporary files are left behind by the atomic writes.
    expect(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('skips an index entry whose files are gone (torn run folder)', () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    saveCheckpoint(dir, payload(1, 0.5), 3);
    saveCheckpoint(dir, payload(2, 0.4), 3);
    fs.rmSync(path.join(dir, 'step-000002.train.safetensors'));
    expect(latestCheckpoint(dir)!.entry.step).toBe(1);
  });
});

describe('loss curve', () => {
  it('appends, truncates to a checkpoint step, ignores a torn last line, and downsamples', () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    for (let step = 1; step <= 10; step++)
      appendCurve(dir, {
        step,
        loss: 1 / step,
        terms: { l1: step },
        lr: 0.1,
        gradNorm: 1,
        imagesPerSecond: 5,
        time: 't',
      });
    fs.appendFileSync(path.join(dir, 'curve.jsonl'), '{"step": 11, "lo');
    expect(readCurve(dir).map((p) => p.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    truncateCurve(dir, 6);
    expect(readCurve(dir).map((p) => p.step)).toEqual([1, 2, 3, 4, 5, 6]);
    const down = downsampleCurve(readCurve(dir), 3);
    expect(down.map((p) => p.step)).toEqual([2, 4, 6]);
    expect(down[0]!.terms.l1).toBeCloseTo(1.5);
  });
});
