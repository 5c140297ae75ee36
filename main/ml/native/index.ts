/**
 * The optional native BLAS bridge (usfm_blas.c, built by scripts/build-native.mjs): matrix products on
 * TensorFlow.js' WASM heap through OpenBLAS (or MKL, BLIS, Apple Accelerate), about four times XNNPACK's
 * speed on one core. Loaded once per job process; when the addon was not built or no BLAS library is
 * installed, `loadNativeBlas` says why and the WASM products stay in use.
 *
 * USFM_NATIVE_BLAS=off disables it; USFM_BLAS_LIBRARY=/path/to/lib names the library to open.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { appRoot } from '../../config/paths';

interface Addon {
  load(library: string, threads: number): { library: string; config: string; threadControl: boolean };
  setThreads(threads: number): boolean;
  sgemm(...args: [ArrayBuffer, ...number[]]): void;
}

/** One batched product on a WebAssembly memory; offsets in bytes, strides in floats (0: broadcast). */
export interface GemmRequest {
  batch: number;
  m: number;
  n: number;
  k: number;
  transposeA: boolean;
  transposeB: boolean;
  aOffset: number;
  aStride: number;
  bOffset: number;
  bStride: number;
  cOffset: number;
  cStride: number;
  /** Byte offset of an [n] bias added to every output row, or -1. */
  biasOffset: number;
}

export interface NativeBlas {
  /** The library file that was opened, and OpenBLAS' build configuration when it reports one. */
  library: string;
  config: string;
  threads: number;
  setThreads(threads: number): void;
  /** C_i = op(A_i)·op(B_i) (+ bias) in place on `memory`; throws on any offset outside it. */
  sgemm(memory: ArrayBuffer, request: GemmRequest): void;
}

export type NativeBlasStatus = { ok: true; blas: NativeBlas } | { ok: false; reason: string };

const require = createRequire(import.meta.url);

/** Where the built addon lies: the source checkout's node-gyp output, or dist/native in a packaged app. */
export function addonCandidates(root = appRoot()): string[] {
  return [
    path.join(root, 'main', 'ml', 'native', 'build', 'Release', 'usfm_blas.node'),
    path.join(root, 'dist', 'native', 'usfm_blas.node'),
  ];
}

/** Optimised BLAS libraries by platform, most common first. The reference BLAS is deliberately absent: slower than XNNPACK. */
export function libraryCandidates(platform: NodeJS.Platform = process.platform): string[] {
  if (platform === 'darwin')
    return [
      '/opt/homebrew/opt/openblas/lib/libopenblas.dylib',
      '/usr/local/opt/openblas/lib/libopenblas.dylib',
      '/System/Library/Frameworks/Accelerate.framework/Accelerate',
    ];
  if (platform === 'win32') return ['libopenblas.dll', 'openblas.dll', 'mkl_rt.2.dll'];
  return ['libopenblas.so.0', 'libopenblas.so', 'libmkl_rt.so.2', 'libmkl_rt.so', 'libblis.so.4'];
}

let status: NativeBlasStatus | null = null;

export function loadNativeBlas(threads = 1, env: NodeJS.ProcessEnv = process.env): NativeBlasStatus {
  if (status) {
    if (status.ok && status.blas.threads !== threads) status.blas.setThreads(threads);
    return status;
  }
  status = open(threads, env);
  return status;
}

function open(threads: number, env: NodeJS.ProcessEnv): NativeBlasStatus {
  if (env.USFM_NATIVE_BLAS === 'off') return { ok: false, reason: 'disabled by USFM_NATIVE_BLAS=off' };
  const file = addonCandidates().find((p) => fs.existsSync(p));
  if (!file) return { ok: false, reason: 'the native BLAS bridge is not built (npm run build:native)' };
  let addon: Addon;
  try {
    addon = require(file) as Addon;
  } catch (err) {
    return {
      ok: false,
      reason: `the native BLAS bridge failed to load: ${(err as Error).message.split('\n')[0]}`,
    };
  }
  const explicit = env.USFM_BLAS_LIBRARY?.trim();
  const libraries = explicit ? [explicit] : libraryCandidates();
  const failures: string[] = [];
  for (const library of libraries) {
    try {
      const opened = addon.load(library, threads);
      return { ok: true, blas: bridge(addon, opened.library, opened.config, threads) };
    } catch (err) {
      failures.push((err as Error).message);
    }
  }
  return {
    ok: false,
    reason: explicit
      ? `USFM_BLAS_LIBRARY: ${failures[0]}`
      : `no optimised BLAS library found (tried ${libraries.join(', ')}); install OpenBLAS (Debian: libopenblas0)`,
  };
}

function bridge(addon: Addon, library: string, config: string, initialThreads: number): NativeBlas {
  const blas: NativeBlas = {
    library,
    config,
    threads: initialThreads,
    setThreads(threads) {
      addon.setThreads(threads);
      blas.threads = threads;
    },
    sgemm(memory, r) {
      addon.sgemm(
        memory,
        r.batch,
        r.m,
        r.n,
        r.k,
        r.transposeA ? 1 : 0,
        r.transposeB ? 1 : 0,
        r.aOffset,
        r.aStride,
        r.bOffset,
        r.bStride,
        r.cOffset,
        r.cStride,
        r.biasOffset,
      );
    },
  };
  return blas;
}
