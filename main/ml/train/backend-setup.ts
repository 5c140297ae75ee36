/**
 * Everything a training process needs from TensorFlow.js before the first step: the backend (the app's
 * selection order and settings), the threaded WASM build when more than one thread is asked for, the
 * XNNPACK-only matrix-product kernels on WASM, and the gradient functions.
 */
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../backend';
import type { BackendReport } from '../../api/contract';
import { appRoot } from '../../config/paths';
import { ensureGradients } from './gradients';
import { installWasmMatMul } from './wasm-matmul';
import { prepareThreadedWasm } from './wasm-threads';

export interface TrainingBackend {
  report: BackendReport;
  versions: Record<string, string>;
}

let ready: Promise<TrainingBackend> | null = null;

export function prepareTrainingBackend(settings: { backend?: unknown; wasmThreads?: unknown } = {}): Promise<TrainingBackend> {
  ready ??= (async () => {
    const threads = typeof settings.wasmThreads === 'number' && settings.wasmThreads > 1 ? Math.floor(settings.wasmThreads) : 1;
    const threaded = threads > 1 ? prepareThreadedWasm(threads) : null;
    let report: BackendReport;
    try {
      report = await selectBackend({ setting: settings.backend, wasmThreads: threads });
    } finally {
      threaded?.restore();
    }
    // USFM_WASM_MATMUL=stock keeps tfjs' own kernels (for measuring what the replacement gains).
    if (report.active === 'wasm' && process.env.USFM_WASM_MATMUL !== 'stock') installWasmMatMul();
    await ensureGradients();
    let app = 'unknown';
    try {
      app = (JSON.parse(fs.readFileSync(path.join(appRoot(), 'package.json'), 'utf8')) as { version: string }).version;
    } catch {
      /* packaged without package.json beside the code */
    }
    const versions: Record<string, string> = {
      app,
      tfjs: tf.version_core,
      node: process.versions.node,
      backend: report.active,
      threads: String(report.threads ?? 1),
      simd: String(report.simd ?? false),
    };
    return { report, versions };
  })();
  return ready;
}
