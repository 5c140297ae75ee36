/**
 * One pretraining-step measurement in its own process (the WASM thread count is fixed when the backend
 * starts): `node --import tsx tests/bench/_pretrain-step.ts RECIPE IMG BATCH THREADS STEPS EXPORT_FILE [--profile]`.
 * Builds the recipe's ViT-tiny, a batch of the bundled sample images and one fixed masking, writes all of it
 * (weights with PyTorch names, batch, masks, config) to EXPORT_FILE for the PyTorch side, times full steps
 * (batch upload, corruption, forward, backward, clipping, AdamW) and prints one JSON line.
 */
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { prepareTrainingBackend } from '../../main/ml/train/backend-setup';
import { AdamW } from '../../main/ml/train/adamw';
import { resizeWhole } from '../../main/ml/train/augment';
import { decays } from '../../main/ml/train/params';
import { Rng } from '../../main/ml/train/rng';
import { readImage } from '../../main/ingest/image-read';
import { toLuma8 } from '../../main/imaging/raster';
import { float32Tensor, writeSafetensors, type NamedTensor } from '../../main/weights/safetensors';
import { drawMask, prepareBatch, type HostBatch, type MaskingSettings } from '../../main/ml/pretrain/batch';
import { bandStopMasks } from '../../main/ml/pretrain/corruption';
import { createPretrainModel, trainableOf, type Recipe } from '../../main/ml/pretrain/model';
import { RECIPE_DEFAULTS } from '../../main/ml/pretrain/recipes';
import { optimizerStep } from '../../main/ml/pretrain/step';
import { repoRoot } from '../helpers/temp';

const [recipeArg, imgArg, batchArg, threadsArg, stepsArg, exportFile] = process.argv.slice(2);
const recipe = recipeArg as Recipe;
const img = Number(imgArg);
const batch = Number(batchArg);
const threads = Number(threadsArg);
const steps = Number(stepsArg);
const profile = process.argv.includes('--profile');

async function sampleImages(size: number, count: number): Promise<Float32Array> {
  const files: string[] = [];
  const root = path.join(repoRoot, 'resources', 'samples');
  for (const dir of fs.readdirSync(root).sort()) {
    const full = path.join(root, dir);
    if (!fs.statSync(full).isDirectory()) continue;
    for (const f of fs.readdirSync(full).sort())
      if (f.endsWith('.png') && !f.includes('_mask')) files.push(path.join(full, f));
  }
  const out = new Float32Array(count * size * size);
  for (let i = 0; i < count; i++) {
    const raster = await readImage(fs.readFileSync(files[i % files.length]!));
    const luma = toLuma8(raster);
    const grey = {
      width: raster.width,
      height: raster.height,
      data: Float32Array.from(luma, (v) => v / 255),
    };
    out.set(resizeWhole(grey, size), i * size * size);
  }
  return out;
}

async function main(): Promise<void> {
  const { report } = await prepareTrainingBackend({
    backend: process.env.USFM_BACKEND ?? 'auto',
    wasmThreads: threads,
  });
  const d = RECIPE_DEFAULTS[recipe];
  const model = createPretrainModel(
    { recipe, size: 'tiny', imgSize: img, layout: d.layout, fill: d.fill, dropPathRate: 0, decoder: null },
    1,
  );
  const trainable = trainableOf(model);
  const lr = 1e-4;
  const optimizer = new AdamW(trainable, {
    beta1: d.beta1,
    beta2: d.beta2,
    eps: d.eps,
    weightDecay: d.weightDecay,
  });
  const host: HostBatch = {
    batch,
    size: img,
    pixels: await sampleImages(img, batch),
    cones: Array(batch).fill(null),
    itemIds: [],
  };
  const masking: MaskingSettings = {
    recipe,
    maskRatio: d.maskRatio,
    maskBlockPixels: d.maskBlockPixels,
    coneAware: false,
    fill: d.fill,
    stoppedBandFraction: d.stoppedBandFraction,
  };
  const mask = drawMask(Rng.stream(0, 'bench-mask'), host, masking);
  // Every step uses the same masking and band choice (the PyTorch side gets exactly these).
  const prepare = () => prepareBatch(Rng.stream(0, 'bench-bands'), host, masking, mask);

  // Export for the PyTorch step before any update.
  const tensors = new Map<string, NamedTensor>();
  for (const [name, v] of model.params)
    tensors.set(name, float32Tensor([...v.shape], v.dataSync() as Float32Array));
  const n = mask.grid * mask.grid;
  tensors.set('batch.images', float32Tensor([batch, 1, img, img], host.pixels));
  tensors.set('batch.masked', float32Tensor([batch, n], Float32Array.from(mask.masked)));
  tensors.set('batch.lossWeight', float32Tensor([batch, n], mask.lossWeight));
  if (mask.visible) {
    const vis = new Int32Array(mask.visible);
    tensors.set('batch.visible', {
      dtype: 'I32',
      shape: [batch, mask.visibleCount],
      bytes: new Uint8Array(vis.buffer),
    });
  }
  const probe = prepare();
  if (probe.stoppedBands)
    tensors.set('batch.bandMasks', float32Tensor([batch, img, img], bandStopMasks(img, probe.stoppedBands)));
  probe.dispose();
  const dec = model.config.decoder;
  const config = {
    recipe,
    layout: model.encoder.config.layout,
    img,
    heads: model.encoder.config.numHeads,
    depth: model.encoder.config.depth,
    decoderDepth: dec?.depth ?? 0,
    decoderHeads: dec?.heads ?? 0,
    fill: d.fill,
    alpha: d.alpha,
    lr,
    beta1: d.beta1,
    beta2: d.beta2,
    weightDecay: d.weightDecay,
    clipNorm: d.clipNorm,
    decays: Object.fromEntries([...model.params].map(([name, v]) => [name, decays(name, v.shape)])),
  };
  writeSafetensors(exportFile!, tensors, { config: JSON.stringify(config) });

  const step = () =>
    optimizerStep(
      model,
      trainable,
      optimizer,
      (async function* () {
        yield { batch: prepare(), size: batch, settings: { alpha: d.alpha, training: true } };
      })(),
      batch,
      lr,
      d.clipNorm,
    );
  const first = await step();
  await step();
  const tensorsBefore = tf.memory().numTensors;
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) await step();
  const ms = (performance.now() - t0) / steps;
  let kernels: Record<string, number> | undefined;
  if (profile) {
    const info = await tf.profile(async () => {
      await step();
    });
    kernels = {};
    const detail = new Map<string, { ms: number; calls: number }>();
    for (const k of info.kernels) {
      const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
      kernels[k.name] = (kernels[k.name] ?? 0) + ms;
      const key = `${k.name} ${k.inputShapes.map((s) => `[${s}]`).join(' ')} -> ${k.outputShapes.map((s) => `[${s}]`).join(' ')}`;
      const d = detail.get(key) ?? { ms: 0, calls: 0 };
      d.ms += ms;
      d.calls++;
      detail.set(key, d);
    }
    // --profile-detail: the 100 costliest kernel/shape combinations, on stderr.
    if (process.argv.includes('--profile-detail'))
      for (const [key, d] of [...detail].sort((a, b) => b[1].ms - a[1].ms).slice(0, 100))
        process.stderr.write(`${d.ms.toFixed(1).padStart(8)} ms ${String(d.calls).padStart(5)}x  ${key}\n`);
  }
  const result = {
    imagesPerSecond: (batch * 1000) / ms,
    stepMs: ms,
    firstLoss: first.loss,
    backend: report.active,
    // With the native engine the thread count is the BLAS'; WASM itself then runs single-threaded.
    threads: report.matmul?.engine === 'native-blas' ? report.matmul.threads : (report.threads ?? 1),
    simd: report.simd,
    matmul: report.matmul
      ? `${report.matmul.engine}${report.matmul.library ? ` (${report.matmul.library})` : ''}`
      : undefined,
    tensorsFlat: tf.memory().numTensors === tensorsBefore,
    kernels,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
