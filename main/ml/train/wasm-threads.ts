/**
 * Makes tfjs-backend-wasm's threaded SIMD build load under Node (tfjs disables it there, tfjs issue #3830).
 * Three things stand in the way, each worked around here without touching the package:
 *  1. the WASM_HAS_MULTITHREAD_SUPPORT flag is hard-wired to false under Node: set it to true;
 *  2. the pthread worker script and the main script reach the workers as blob: URLs, which Node's
 *     worker_threads cannot load: Blob texts are recorded when created, written (content-addressed) to a
 *     temporary folder, and passed as file paths (URL.createObjectURL and the workers' 'load' message);
 *  3. the C++ side caps XNNPACK's pool at emscripten_num_logical_cores()/2 (it assumes hyper-threading),
 *     which is 1 on a 2-core machine: while the module starts, os.cpus() reports twice the cores.
 * Call before selectBackend() with the wanted thread count; `restore()` once the backend is ready.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import workerThreads from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { writeFileAtomic } from '../../util/atomic-write';

// The threaded factory's source expects the bundle's CommonJS helpers as globals when it runs in a worker.
const FACTORY_PRELUDE =
  "var require$$0=require('fs'),require$$1=require('path'),require$$3=require('perf_hooks'),require$$4=require('os'),commonjsGlobal=globalThis;\n";

let prepared: { restore(): void } | null = null;

export function prepareThreadedWasm(threads: number): { restore(): void } {
  if (prepared) return prepared;
  const texts = new WeakMap<Blob, string>();
  const NativeBlob = globalThis.Blob;
  class RecordingBlob extends NativeBlob {
    constructor(...args: ConstructorParameters<typeof Blob>) {
      super(...args);
      const parts = args[0];
      if (parts && parts.every((p) => typeof p === 'string')) texts.set(this, (parts as string[]).join(''));
    }
  }
  // Content-addressed files in one shared folder: the same tfjs version writes the same two scripts once.
  const dir = path.join(os.tmpdir(), 'usfm-wasm-threads');
  const toFile = (blob: Blob): string => {
    const raw = texts.get(blob)!;
    const text = raw.startsWith('var WasmBackendModuleThreadedSimd') ? FACTORY_PRELUDE + raw : raw;
    const file = path.join(dir, `${crypto.createHash('sha256').update(text).digest('hex').slice(0, 32)}.cjs`);
    if (!fs.existsSync(file)) writeFileAtomic(file, text);
    return file;
  };
  globalThis.Blob = RecordingBlob;
  const nativeCreateObjectURL = URL.createObjectURL.bind(URL);
  URL.createObjectURL = (obj: Blob) => (texts.has(obj) ? toFile(obj) : nativeCreateObjectURL(obj));
  const proto = workerThreads.Worker.prototype;
  const nativePost = proto.postMessage;
  proto.postMessage = function postMessage(this: workerThreads.Worker, message: unknown, transfer?: readonly workerThreads.TransferListItem[]) {
    const m = message as { cmd?: unknown; urlOrBlob?: unknown } | null;
    if (m && m.cmd === 'load' && m.urlOrBlob instanceof NativeBlob && texts.has(m.urlOrBlob)) m.urlOrBlob = toFile(m.urlOrBlob);
    return nativePost.call(this, message, transfer);
  };
  const nativeCpus = os.cpus;
  const cores = nativeCpus().length;
  os.cpus = () => {
    const list = nativeCpus();
    // Report 2·threads logical cores so that the module's cores/2 cap allows `threads`.
    return Array.from({ length: Math.max(2 * threads, cores) }, (_, i) => list[i % list.length]!);
  };
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
  prepared = {
    restore() {
      os.cpus = nativeCpus;
      globalThis.Blob = NativeBlob;
    },
  };
  return prepared;
}
