import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import workerThreads from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { setWasmPaths, setThreadsCount, getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { wasmDir } from '/work/main/main/ml/backend';

const texts = new WeakMap<Blob, string>();
const NativeBlob = globalThis.Blob;
class RecordingBlob extends NativeBlob {
  constructor(parts?: BlobPart[], options?: BlobPropertyBag) {
    super(parts, options);
    if (parts && parts.every((p) => typeof p === 'string')) texts.set(this, (parts as string[]).join(''));
  }
}
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tfjs-wasm-threads-'));
let n = 0;
const PRELUDE = "var require$$0=require('fs'),require$$1=require('path'),require$$3=require('perf_hooks'),require$$4=require('os'),commonjsGlobal=globalThis;\n";
function toFile(blob: Blob): string {
  const text = texts.get(blob);
  if (text === undefined) throw new Error('unknown blob');
  const file = path.join(dir, `part${n++}.cjs`);
  fs.writeFileSync(file, text.startsWith('var WasmBackendModuleThreadedSimd') ? PRELUDE + text : text);
  return file;
}
(globalThis as { Blob: typeof Blob }).Blob = RecordingBlob;
const nativeCreate = URL.createObjectURL;
URL.createObjectURL = (obj: Blob) => (texts.has(obj) ? toFile(obj) : nativeCreate(obj));
const proto = workerThreads.Worker.prototype;
const nativePost = proto.postMessage;
proto.postMessage = function (this: workerThreads.Worker, msg: unknown, transfer?: readonly workerThreads.TransferListItem[]) {
  const m = msg as { cmd?: string; urlOrBlob?: unknown };
  if (m && m.cmd === 'load' && m.urlOrBlob instanceof NativeBlob) m.urlOrBlob = toFile(m.urlOrBlob);
  if (m && m.cmd) console.log('post', m.cmd, typeof m.urlOrBlob);
  if (!(this as unknown as {hooked?: boolean}).hooked) { (this as unknown as {hooked?: boolean}).hooked = true; this.on('error', (e) => console.log('worker error', e)); this.on('message', (d) => console.log('worker msg', JSON.stringify(d).slice(0, 200))); }
  return nativePost.call(this, msg, transfer);
};
const rfs = fs.readFileSync; (fs as unknown as {readFileSync: unknown}).readFileSync = (...a: unknown[]) => { if (String(a[0]).includes('wasm')) console.log('read', String(a[0])); return (rfs as (...x: unknown[]) => unknown)(...a); };
tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
setWasmPaths(wasmDir() + path.sep);
const threads = Number(process.argv[2] ?? '2');
setThreadsCount(threads);
console.log('mt flag', await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT'));
const NW = workerThreads.Worker; let created = 0; (workerThreads as unknown as {Worker: unknown}).Worker = NW;
const origCreate = URL.createObjectURL; URL.createObjectURL = (o: Blob) => { const r = origCreate(o); console.log('createObjectURL', r); return r; };
await tf.setBackend('wasm'); void created;
await tf.ready();
console.log('threads', getThreadsCount(), 'simd', await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
const a = tf.randomNormal([1024, 1024]);
const b = tf.randomNormal([1024, 1024]);
for (let i = 0; i < 3; i++) tf.matMul(a, b).dispose();
const t0 = performance.now();
for (let i = 0; i < 10; i++) tf.matMul(a, b).dataSync();
const dt = (performance.now() - t0) / 10;
console.log('matmul 1024 ms', dt.toFixed(1), 'GFLOP/s', (2 * 1024 ** 3 / dt / 1e6).toFixed(1));
process.exit(0);
