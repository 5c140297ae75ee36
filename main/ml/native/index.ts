/**
 * The optional native kernels (usfm_native.c, built by scripts/build-native.mjs), working in place on
 * TensorFlow.js' WASM heap: matrix products through OpenBLAS (or MKL, BLIS, Apple Accelerate), about four
 * times XNNPACK's speed on one core, and fused GELU / LayerNorm / AdamW passes and column sums. Loaded once per job process; when
 * the addon was not built or no BLAS library is installed, `loadNativeKernels` says why and the WASM
 * kernels stay in use.
 *
 * USFM_NATIVE_BLAS=off disables it; USFM_BLAS_LIBRARY=/path/to/lib names the library to open.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { appRoot } from '../../config/paths';

/** The addon's exports: the element-wise kernels are called as they are. */
type Addon = Pick<NativeKernels, ElementwiseKernel> & {
  load(library: string, threads: number): { library: string; config: string; threadControl: boolean };
  setThreads(threads: number): boolean;
  sgemm(...args: [ArrayBuffer, ...number[]]): void;
};

const ELEMENTWISE = [
  'geluForward',
  'geluBackward',
  'layerNormForward',
  'layerNormBackward',
  'columnSum',
  'adamw',
] as const;
type ElementwiseKernel = (typeof ELEMENTWISE)[number];

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

/**
 * The kernels, all in place on a WebAssembly memory, offsets in bytes; each throws (and writes nothing) when
 * any tensor would lie outside the memory.
 */
export interface NativeKernels {
  /** The BLAS library file that was opened, and OpenBLAS' build configuration when it reports one. */
  library: string;
  config: string;
  threads: number;
  setThreads(threads: number): void;
  /** C_i = op(A_i)·op(B_i) (+ bias). */
  sgemm(memory: ArrayBuffer, request: GemmRequest): void;
  /** y = x·Φ(x) and Φ(x) (erf GELU), n floats. */
  geluForward(memory: ArrayBuffer, x: number, y: number, cdf: number, n: number): void;
  /** dx = dy·(Φ(x) + x·φ(x)). */
  geluBackward(memory: ArrayBuffer, x: number, cdf: number, dy: number, dx: number, n: number): void;
  /** Row-wise LayerNorm of [m, d]: y, x̂ [m, d] and rstd [m]. */
  layerNormForward(
    memory: ArrayBuffer,
    x: number,
    w: number,
    b: number,
    y: number,
    xhat: number,
    rstd: number,
    m: number,
    d: number,
    eps: number,
  ): void;
  /** dx [m, d], dw and db [d] from the upstream gradient g and the saved x̂, rstd. */
  layerNormBackward(
    memory: ArrayBuffer,
    g: number,
    xhat: number,
    rstd: number,
    w: number,
    dx: number,
    dw: number,
    db: number,
    m: number,
    d: number,
  ): void;
  /** out[j] = Σ_r x[r, j] for x [m, n] (a sum over leading axes), accumulated in double. */
  columnSum(memory: ArrayBuffer, x: number, out: number, m: number, n: number): void;
  /**
   * AdamW on one parameter: writes p', m', v' (offsets pOut, mOut, vOut) from p, m, v, g (n floats each);
   * constants = [beta1, 1-beta1, beta2, 1-beta2, stepSize, 1/√bc2, eps, decay] (see main/ml/train/adamw.ts).
   */
  adamw(
    memory: ArrayBuffer,
    p: number,
    m: number,
    v: number,
    g: number,
    pOut: number,
    mOut: number,
    vOut: number,
    n: number,
    ...constants: number[]
  ): void;
}

export type NativeStatus = { ok: true; kernels: NativeKernels } | { ok: false; reason: string };

const require = createRequire(import.meta.url);

/** Where the built addon lies: the source checkout's node-gyp output, or dist/native in a packaged app. */
export function addonCandidates(root = appRoot()): string[] {
  return [
    path.join(root, 'main', 'ml', 'native', 'build', 'Release', 'usfm_native.node'),
    path.join(root, 'dist', 'native', 'usfm_native.node'),
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

let status: NativeStatus | null = null;

export function loadNativeKernels(threads = 1, env: NodeJS.ProcessEnv = process.env): NativeStatus {
  if (status) {
    if (status.ok && status.kernels.threads !== threads) status.kernels.setThreads(threads);
    return status;
  }
  status = open(threads, env);
  return status;
}

function open(threads: number, env: NodeJS.ProcessEnv): NativeStatus {
  if (env.USFM_NATIVE_BLAS === 'off') return { ok: false, reason: 'disabled by USFM_NATIVE_BLAS=off' };
  const file = addonCandidates().find((p) => fs.existsSync(p));
  if (!file) return { ok: false, reason: 'the native kernels are not built (npm run build:native)' };
  let addon: Addon;
  try {
    addon = require(file) as Addon;
  } catch (err) {
    return {
      ok: false,
      reason: `the native kernels failed to load: ${(err as Error).message.split('\n')[0]}`,
    };
  }
  const explicit = env.USFM_BLAS_LIBRARY?.trim();
  const libraries = explicit ? [explicit] : libraryCandidates();
  const failures: string[] = [];
  for (const library of libraries) {
    try {
      const opened = addon.load(library, threads);
      return { ok: true, kernels: bridge(addon, opened.library, opened.config, threads) };
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

function bridge(addon: Addon, library: string, config: string, initialThreads: number): NativeKernels {
  const kernels: NativeKernels = {
    library,
    config,
    threads: initialThreads,
    setThreads(threads) {
      addon.setThreads(threads);
      kernels.threads = threads;
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
    ...(Object.fromEntries(ELEMENTWISE.map((name) => [name, addon[name]])) as Pick<
      NativeKernels,
      ElementwiseKernel
    >),
  };
  return kernels;
}
