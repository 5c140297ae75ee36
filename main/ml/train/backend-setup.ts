/**
 * Everything a training process needs from TensorFlow.js before the first step: the backend (the app's
 * selection order and settings), the matrix-product engine on WASM (the native BLAS bridge when an
 * optimised BLAS is installed, else XNNPACK-only kernels), the threaded WASM build when more than one
 * thread is asked for and no native BLAS takes them, and the gradient functions.
 *
 * USFM_WASM_MATMUL=xnnpack skips the native BLAS; =stock keeps tfjs' own kernels (for measuring what each
 * replacement gains).
 */
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../backend';
import type { BackendReport } from '../../api/contract';
import { appRoot } from '../../config/paths';
import { ensureGradients } from './gradients';
import { installWasmMatMul } from '../ops/wasm-matmul';
import { loadNativeKernels } from '../native';
import { prepareThreadedWasm } from './wasm-threads';

export interface TrainingBackend {
  report: BackendReport;
  versions: Record<string, string>;
}

let computeReady: Promise<BackendReport> | null = null;
let ready: Promise<TrainingBackend> | null = null;

type ComputeSettings = { backend?: unknown; wasmThreads?: unknown };

/** The backend and its matrix-product engine, as training and inference use them (no gradients). */
export function prepareComputeBackend(settings: ComputeSettings = {}): Promise<BackendReport> {
  computeReady ??= (async () => {
    const threads =
      typeof settings.wasmThreads === 'number' && settings.wasmThreads > 1
        ? Math.floor(settings.wasmThreads)
        : 1;
    const mode = process.env.USFM_WASM_MATMUL ?? 'auto';
    const nativeWanted = mode !== 'stock' && mode !== 'xnnpack';
    // With a native BLAS the threads go to the BLAS (OpenBLAS' pool), and WASM stays single-threaded.
    const nativeBlas = nativeWanted && loadNativeKernels(threads).ok;
    const threaded = threads > 1 && !nativeBlas ? prepareThreadedWasm(threads) : null;
    let report: BackendReport;
    try {
      report = await selectBackend({ setting: settings.backend, wasmThreads: nativeBlas ? 1 : threads });
    } finally {
      threaded?.restore();
    }
    if (report.active === 'wasm' && mode !== 'stock') {
      const engine = installWasmMatMul({
        nativeBlas: nativeWanted,
        threads,
        why: `USFM_WASM_MATMUL=${mode}`,
      });
      if (engine) report = { ...report, matmul: engine };
    }
    return report;
  })();
  return computeReady;
}

export function prepareTrainingBackend(settings: ComputeSettings = {}): Promise<TrainingBackend> {
  ready ??= (async () => {
    const report = await prepareComputeBackend(settings);
    await ensureGradients();
    let app = 'unknown';
    try {
      app = (JSON.parse(fs.readFileSync(path.join(appRoot(), 'package.json'), 'utf8')) as { version: string })
        .version;
    } catch {
      /* packaged without package.json beside the code */
    }
    const versions: Record<string, string> = {
      app,
      tfjs: tf.version_core,
      node: process.versions.node,
      backend: report.active,
      threads: String(
        report.matmul?.engine === 'native-blas' ? report.matmul.threads : (report.threads ?? 1),
      ),
      simd: String(report.simd ?? false),
      matmul: report.matmul
        ? `${report.matmul.engine}${report.matmul.library ? ` (${report.matmul.library})` : ''}`
        : 'backend',
    };
    return { report, versions };
  })();
  return ready;
}
