/**
 * `usfm pretrain` end to end (JSON lines, a real job process), its usage errors, `runs` / `show`, and
 * a run stopped on request: checkpoint first, state 'stopped', resumable.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCatalog, type Catalog } from '../../../main/catalog/db';
import { createDataset } from '../../../main/catalog/datasets';
import { runImport } from '../../../main/ingest/importer';
import { createPretrainRun } from '../../../main/api/handlers/pretrain';
import { PretrainRequest } from '../../../main/api/contract/pretrain';
import { trainRun, TrainingStopped } from '../../../main/ml/pretrain/trainer';
import { RunStore } from '../../../main/ml/runs/run-store';
import { readCheckpointIndex } from '../../../main/ml/train/checkpoint';
import type { AppContext } from '../../../main/app/context';
import { repoRoot, tempDir } from '../../helpers/temp';
import { jsonLines, runCliCaptured, type CliRun } from '../../helpers/cli';
import { prepareTrainingBackend } from '../../../main/ml/train/backend-setup';
import { createPretrainModel, disposePretrainModel } from '../../../main/ml/pretrain/model';
import { applyInit } from '../../../main/ml/pretrain/init-apply';
import { getModel, readModelStateDict } from '../../../main/weights/model-registry';

let dataDir: string;
let cleanup: () => void;
let catalog: Catalog;

beforeAll(async () => {
  ({ dir: dataDir, cleanup } = tempDir('usfm-pretrain-cli-'));
  catalog = openCatalog(dataDir);
  const dataset = createDataset(catalog.db, 'busi-sample');
  await runImport(catalog, dataDir, { datasetId: dataset.id, importId: 'job_pretrainclitest1', paths: [path.join(repoRoot, 'resources', 'samples')], stride: 1 });
});

afterAll(() => {
  catalog?.close();
  cleanup?.();
});

const cli = (...args: string[]): Promise<CliRun> => runCliCaptured(args);

describe('usfm pretrain', () => {
  it('rejects bad usage with exit code 2 and a missing dataset with exit code 1', async () => {
    expect((await cli('pretrain', '--dataset', 'busi-sample', '--recipe', 'mae', '--data-dir', dataDir)).code).toBe(2);
    expect((await cli('pretrain', '--dataset', 'busi-sample', '--recipe', 'simclr', '--model', 'tiny', '--data-dir', dataDir)).code).toBe(2);
    expect((await cli('pretrain', '--dataset', 'busi-sample', '--recipe', 'mae', '--model', 'tiny', '--epochs', '1', '--steps', '2', '--data-dir', dataDir)).code).toBe(2);
    const missing = await cli('pretrain', '--dataset', 'nope', '--recipe', 'mae', '--model', 'tiny', '--json', '--data-dir', dataDir);
    expect(missing.code).toBe(1);
    expect(jsonLines(missing.stdout).at(-1)).toMatchObject({ type: 'error', message: expect.stringContaining('no dataset "nope"') });
  });

  it('runs an MAE job with JSON progress lines and lists and shows the run', async () => {
    const { code, stdout } = await cli('pretrain', '--dataset', 'busi-sample', '--recipe', 'mae', '--model', 'tiny', '--img', '112', '--steps', '2', '--batch', '4', '--seed', '3', '--json', '--data-dir', dataDir);
    const out = jsonLines(stdout);
    expect(code, JSON.stringify(out.at(-1))).toBe(0);
    const progress = out.filter((l) => l.type === 'progress');
    expect(progress.map((p) => p.step)).toEqual([1, 2]);
    expect(progress[0]).toMatchObject({ phase: 'pretraining', total: 2, rateUnit: 'images/s', metrics: { loss: expect.any(Number), loss_mse: expect.any(Number), liveTensors: expect.any(Number) } });
    const result = out.at(-1) as { type: string; run: { runId: string; steps: number; modelId: string } };
    expect(result).toMatchObject({ type: 'result', run: { steps: 2, modelId: expect.stringMatching(/^mdl_/) } });
    const runs = jsonLines((await cli('pretrain', 'runs', '--json', '--data-dir', dataDir)).stdout).at(-1) as { runs: { id: string; state: string }[] };
    expect(runs.runs.find((r) => r.id === result.run.runId)?.state).toBe('finished');
    const shown = await cli('pretrain', 'show', result.run.runId, '--data-dir', dataDir);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/finished\s+mae/);
    expect((await cli('pretrain', '--resume', result.run.runId, '--data-dir', dataDir)).code).toBe(1);

    // The registered model (and the run itself) can start another run: the weights arrive by name.
    await prepareTrainingBackend({ backend: 'wasm' });
    const registered = readModelStateDict(dataDir, getModel(catalog.db, result.run.modelId)!).tensors;
    for (const init of [result.run.modelId, result.run.runId]) {
      const model = createPretrainModel({ recipe: 'mae', size: 'tiny', imgSize: 112, layout: 'timm', fill: 'token', dropPathRate: 0, decoder: null }, 99);
      const report = applyInit(model, catalog.db, dataDir, init);
      expect(report.loaded).toBe(model.params.size - 2); // all but the fixed sin-cos tables, recomputed
      expect(Array.from(model.params.get('blocks.3.mlp.fc1.weight')!.dataSync().slice(0, 5))).toEqual(Array.from(registered.get('blocks.3.mlp.fc1.weight')!.data.slice(0, 5)));
      disposePretrainModel(model);
    }
    const bad = await cli('pretrain', '--dataset', 'busi-sample', '--recipe', 'mae', '--model', 'small', '--init', result.run.modelId, '--data-dir', dataDir);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/192-wide/);
  });

  it('stops on request after checkpointing the last finished step, and can be resumed', async () => {
    const ctx = { catalog, dataDir } as unknown as AppContext;
    const { runId } = createPretrainRun(PretrainRequest.parse({ dataset: 'busi-sample', recipe: 'usfm', model: 'tiny', img: 112, steps: 6, batch: 2, checkpointEvery: 100, seed: 1 }), ctx);
    let steps = 0;
    const env = { db: catalog.db, dataDir, jobId: null, settings: { backend: 'wasm' } };
    const stopped = trainRun(runId, env, { progress: () => void steps++, log: () => undefined, stopReason: () => (steps >= 2 ? 'cancel' : null) });
    await expect(stopped).rejects.toBeInstanceOf(TrainingStopped);
    const run = new RunStore(catalog.db).get(runId)!;
    expect(run.state).toBe('stopped');
    expect(run.step).toBe(2);
    expect(readCheckpointIndex(path.join(dataDir, run.dir)).checkpoints.map((c) => c.step)).toEqual([2]);
    const steps2: number[] = [];
    const result = await trainRun(runId, env, { progress: (p) => void steps2.push(p.step), log: () => undefined, stopReason: () => null });
    expect(steps2).toEqual([3, 4, 5, 6]);
    expect(result.steps).toBe(6);
  });
});
