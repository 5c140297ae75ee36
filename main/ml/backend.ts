/**
 * TensorFlow.js backend selection, run inside job processes only: tfjs-node-gpu, then tfjs-node
 * (both optional dependencies whose install downloads libtensorflow and may have failed), then WASM
 * (its .wasm files loaded from the installed package, never the network), then the pure-JS cpu backend.
 */
import path from 'node:path';
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import type { BackendReport } from '../api/contract';

export type BackendName = BackendReport['active'];
export type BackendPreference = BackendReport['preference'];
export const BACKEND_ORDER: readonly BackendName[] = ['tfjs-node-gpu', 'tfjs-node', 'wasm', 'cpu'];

const require = createRequire(import.meta.url);

/** tfjs backend names registered by each option. */
const TF_NAME: Record<BackendName, string> = { 'tfjs-node-gpu': 'tensorflow', 'tfjs-node': 'tensorflow', wasm: 'wasm', cpu: 'cpu' };

export function preferenceFrom(setting: unknown): { preference: BackendPreference; source: BackendReport['source'] } {
  const env = process.env.USFM_BACKEND?.trim();
  const valid = (v: unknown): v is BackendPreference => typeof v === 'string' && ['auto', ...BACKEND_ORDER].includes(v);
  if (env) {
    if (!valid(env)) throw new Error(`USFM_BACKEND="${env}" is not one of auto, ${BACKEND_ORDER.join(', ')}`);
    return { preference: env, source: 'environment' };
  }
  if (valid(setting) && setting !== 'auto') return { preference: setting, source: 'setting' };
  return { preference: 'auto', source: 'default' };
}

function shortReason(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  if (/Cannot find module|MODULE_NOT_FOUND/.test(message)) return 'package not installed (optional dependency; its libtensorflow download needs network access)';
  return message.split('\n')[0]!.replace(/\/[^\s'"]+\//g, '…/').slice(0, 200);
}

async function tryNative(name: 'tfjs-node-gpu' | 'tfjs-node'): Promise<void> {
  const pkg = name === 'tfjs-node-gpu' ? '@tensorflow/tfjs-node-gpu' : '@tensorflow/tfjs-node';
  require(pkg); // registers the 'tensorflow' backend on the shared tfjs-core
  if (!(await tf.setBackend('tensorflow'))) throw new Error('libtensorflow failed to initialise');
  if (name === 'tfjs-node-gpu') {
    // tfjs-node-gpu falls back to the CPU silently when CUDA is missing: insist on a GPU device.
    const devices = (tf.backend() as unknown as { binding?: { getNumGPUs?: () => number } }).binding?.getNumGPUs?.();
    if (devices === 0) throw new Error('no CUDA GPU visible');
  }
}

export function wasmDir(): string {
  return path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
}

async function tryWasm(threads: number): Promise<void> {
  setWasmPaths(wasmDir() + path.sep);
  // Node loads the single-threaded build: the threaded loader needs blob: workers.
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  if (threads > 1) wasm.setThreadsCount(threads);
  if (!(await tf.setBackend('wasm'))) throw new Error('the WASM module failed to initialise');
}

let current: BackendReport | null = null;

export async function selectBackend(options: { setting?: unknown; wasmThreads?: number } = {}): Promise<BackendReport> {
  if (current) return current;
  const { preference, source } = preferenceFrom(options.setting);
  const attempts: BackendReport['attempts'] = [];
  let active: BackendName | null = null;
  const start = preference === 'auto' ? 0 : BACKEND_ORDER.indexOf(preference);
  for (const [i, name] of BACKEND_ORDER.entries()) {
    if (active) break;
    if (i < start) {
      attempts.push({ name, ok: false, reason: `skipped: ${source === 'environment' ? 'USFM_BACKEND' : 'backend setting'} is ${preference}` });
      continue;
    }
    try {
      if (name === 'tfjs-node-gpu' || name === 'tfjs-node') await tryNative(name);
      else if (name === 'wasm') await tryWasm(options.wasmThreads ?? 1);
      else if (!(await tf.setBackend('cpu'))) throw new Error('cpu backend failed to initialise');
      await tf.ready();
      active = name;
      attempts.push({ name, ok: true, reason: i === start && preference !== 'auto' ? `chosen by ${source}` : 'best available' });
    } catch (err) {
      attempts.push({ name, ok: false, reason: shortReason(err) });
    }
  }
  if (!active) throw new Error('no TensorFlow.js backend could be initialised');
  let simd: boolean | null = null;
  let threads: number | null = null;
  if (active === 'wasm') {
    simd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    threads = wasm.getThreadsCount();
  }
  current = { active, preference, source, attempts, threads, simd };
  if (tf.getBackend() !== TF_NAME[active]) throw new Error(`backend mismatch: ${tf.getBackend()} vs ${active}`);
  return current;
}

/** For tests: forget the selection (tfjs keeps registered backends). */
export function resetBackendSelection(): void {
  current = null;
}
