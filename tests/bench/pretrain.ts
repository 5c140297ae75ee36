/**
 * Pretraining throughput: images/s of one full optimizer step (batch upload and corruption, forward,
 * backward, clipping, AdamW) for each recipe with ViT-tiny at 112 and 224 px, on the active TensorFlow.js
 * backend, beside the same step (same weights, batch and masking: the first losses are printed to show it)
 * in PyTorch on this machine when Debian's python3-torch is installed, at the same thread count.
 *
 * Each measurement runs in its own process (tests/bench/_pretrain-step.ts, tests/bench/pytorch_pretrain_step.py).
 * Environment: USFM_BENCH_THREADS (default "1,2" on 2+ cores), USFM_BENCH_STEPS (timed steps, default 3),
 * USFM_BENCH_RECIPES, USFM_BENCH_SIZES, USFM_BACKEND, USFM_WASM_MATMUL (xnnpack: without the native BLAS
 * engine), USFM_BENCH_BLAS_DIR (a folder with an optimised
 * libblas.so.3, e.g. OpenBLAS unpacked from libopenblas0-pthread, put first on PyTorch's library path:
 * Debian's python3-torch otherwise runs on the reference BLAS when that is the system's libblas.so.3).
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot, tempDir } from '../helpers/temp';

const PYTHON = '/usr/bin/python3';
const BATCH: Record<number, number> = { 112: 32, 224: 8 };

interface Measurement {
  blas?: string;
  imagesPerSecond: number;
  stepMs: number;
  firstLoss: number;
  threads: number;
  backend?: string;
  tensorsFlat?: boolean;
  matmul?: string;
}

function run(file: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Measurement> {
  return new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      { cwd: repoRoot, env: { ...process.env, ...env }, timeout: 20 * 60_000, maxBuffer: 16 << 20 },
      (err, stdout, stderr) => {
        if (err)
          return reject(
            new Error(
              `${path.basename(args.find((a) => /\.(ts|py)$/.test(a)) ?? file)}: ${(stderr || err.message).trim().split('\n').slice(-3).join(' | ')}`,
            ),
          );
        try {
          resolve(JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as Measurement);
        } catch {
          reject(new Error(`unreadable output: ${stdout.slice(-300)}`));
        }
      },
    );
  });
}

function torchAvailable(): Promise<string | null> {
  if (!fs.existsSync(PYTHON)) return Promise.resolve(null);
  return new Promise((resolve) =>
    execFile(PYTHON, ['-c', 'import torch; print(torch.__version__)'], (err, out) =>
      resolve(err ? null : out.trim()),
    ),
  );
}

const pad = (s: string, n: number): string => s.padEnd(n);
const num = (v: number | undefined, digits = 1): string => (v === undefined ? '-' : v.toFixed(digits));

export async function bench(): Promise<void> {
  const cores = os.cpus().length;
  const threadCounts = (process.env.USFM_BENCH_THREADS ?? (cores >= 2 ? '1,2' : '1')).split(',').map(Number);
  const steps = process.env.USFM_BENCH_STEPS ?? '3';
  const recipes = (process.env.USFM_BENCH_RECIPES ?? 'mae,usfm,usfm-plus').split(',');
  const sizes = (process.env.USFM_BENCH_SIZES ?? '112,224').split(',').map(Number);
  const torch = await torchAvailable();
  console.log(
    `ViT-tiny pretraining step, full optimizer step; PyTorch ${torch ?? 'not installed (apt-get install python3-torch): TypeScript only'}`,
  );
  console.log(
    `${pad('recipe', 10)}${pad('img', 5)}${pad('batch', 6)}${pad('thr', 4)}${pad('backend', 9)}${pad('ours img/s', 11)}${pad('torch img/s', 12)}${pad('ratio', 7)}first loss (ours / torch)`,
  );
  const { dir, cleanup } = tempDir('usfm-bench-pretrain-');
  const blasSeen = new Set<string>();
  try {
    for (const threads of threadCounts) {
      for (const img of sizes) {
        for (const recipe of recipes) {
          const batch = BATCH[img] ?? 8;
          const exportFile = path.join(dir, `${recipe}-${img}.safetensors`);
          let ours: Measurement;
          try {
            ours = await run(process.execPath, [
              '--import',
              'tsx',
              path.join('tests', 'bench', '_pretrain-step.ts'),
              recipe,
              String(img),
              String(batch),
              String(threads),
              steps,
              exportFile,
            ]);
          } catch (err) {
            console.log(
              `${pad(recipe, 10)}${pad(String(img), 5)}${pad(String(batch), 6)}${pad(String(threads), 4)}failed: ${(err as Error).message}`,
            );
            continue;
          }
          if (ours.matmul && !blasSeen.has(`ours:${ours.matmul}`)) {
            blasSeen.add(`ours:${ours.matmul}`);
            console.log(`  (our matrix products: ${ours.matmul})`);
          }
          let theirs: Measurement | null = null;
          let note = '';
          if (torch) {
            try {
              const blasDir = process.env.USFM_BENCH_BLAS_DIR;
              const env: NodeJS.ProcessEnv = {
                OMP_WAIT_POLICY: 'PASSIVE',
                OPENBLAS_NUM_THREADS: String(threads),
              };
              if (blasDir)
                env.LD_LIBRARY_PATH = [blasDir, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':');
              theirs = await run(
                PYTHON,
                [
                  path.join('tests', 'bench', 'pytorch_pretrain_step.py'),
                  exportFile,
                  '--threads',
                  String(threads),
                  '--steps',
                  steps,
                ],
                env,
              );
              if (theirs.blas && !blasSeen.has(theirs.blas)) {
                blasSeen.add(theirs.blas);
                const reference = /\/blas\/libblas\.so/.test(theirs.blas);
                console.log(
                  `  (PyTorch's BLAS: ${theirs.blas}${reference ? ': the reference BLAS, far slower than OpenBLAS/MKL; see USFM_BENCH_BLAS_DIR' : ''})`,
                );
              }
            } catch (err) {
              note = ` (PyTorch failed: ${(err as Error).message})`;
            }
          }
          const ratio = theirs ? ours.imagesPerSecond / theirs.imagesPerSecond : undefined;
          console.log(
            `${pad(recipe, 10)}${pad(String(img), 5)}${pad(String(batch), 6)}${pad(String(ours.threads), 4)}${pad(ours.backend ?? '?', 9)}${pad(num(ours.imagesPerSecond), 11)}${pad(num(theirs?.imagesPerSecond), 12)}${pad(num(ratio, 2), 7)}${ours.firstLoss.toFixed(5)} / ${theirs ? theirs.firstLoss.toFixed(5) : '-'}${ours.tensorsFlat === false ? ' (tensor count grew!)' : ''}${note}`,
          );
        }
      }
    }
  } finally {
    cleanup();
  }
}
