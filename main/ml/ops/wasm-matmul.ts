/**
 * Faster matrix products on tfjs-backend-wasm 4.x, by one of two engines:
 *
 * native-blas: when the native BLAS bridge (main/ml/native) opens OpenBLAS or another optimised BLAS, every
 * product runs as cblas_sgemm on the WASM heap in place: transpose flags, batch strides and broadcasting
 * are free, and the GEMM is about four times XNNPACK's on one core (measured 64-75 vs 14-21 GFLOP/s for
 * ViT-tiny shapes).
 *
 * xnnpack: otherwise. tfjs' own BatchMatMul / _FusedMatMul kernels reach XNNPACK
 * only for a single, untransposed product; with a transpose flag or a batch > 1 they fall back to a scalar
 * triple loop that runs 10-20 times slower (measured: 0.4 vs 6-12 GFLOP/s for ViT-tiny shapes). These
 * replacement kernels keep every product on XNNPACK:
 *  - transposed operands are transposed once, explicitly (the Transpose kernel), then multiplied flag-free;
 *  - a batched product runs as one XNNPACK product per batch element on views of the operands and of the
 *    output (tensor ids registered over the same heap memory: no copies), each view released afterwards
 *    so the operator XNNPACK caches for it is freed with it.
 * Results equal the original kernels' up to float rounding (tests compare them). Installing is idempotent;
 * other backends are untouched.
 */
import * as tf from '@tensorflow/tfjs-core';
import { loadNativeKernels, type NativeKernels } from '../native';
import { setNativeElementwise } from './wasm-native-kernels';
import { wrapWasmKernel } from './wasm-kernels';

interface WasmModule {
  HEAPU8: Uint8Array;
  cwrap(name: string, ret: null, args: string[]): (...args: unknown[]) => void;
  tfjs: { registerTensor(id: number, size: number, offset: number): void; disposeData(id: number): void };
}

interface TensorData {
  id: number;
  memoryOffset: number;
  shape: number[];
  dtype: string;
}

interface WasmBackend {
  wasm: WasmModule;
  dataIdNextNumber: number;
  dataIdMap: { get(dataId: object): TensorData };
  makeOutput(shape: number[], dtype: string): tf.TensorInfo;
  disposeData(dataId: object, force?: boolean): boolean;
}

type KernelArgs = {
  inputs: Record<string, tf.TensorInfo | undefined>;
  backend: WasmBackend;
  attrs: Record<string, unknown>;
};

/** Which engine multiplies matrices on WASM, for reports (`usfm info`, run records). */
export interface MatMulEngine {
  engine: 'native-blas' | 'xnnpack';
  library: string | null;
  threads: number | null;
  /** Why this engine: the BLAS library opened, or why none could be. */
  reason: string;
}

let installed: MatMulEngine | null = null;
let native: NativeKernels | null = null;
let cBatchMatMul: ((...args: unknown[]) => void) | null = null;
let cFusedMatMul: ((...args: unknown[]) => void) | null = null;

const LINEAR_ACTIVATION = 0; // FusableActivation.linear in the wasm backend

function shapeBytes(shape: number[]): Uint8Array {
  return new Uint8Array(new Int32Array(shape).buffer);
}

function transposeLast2(x: tf.TensorInfo, backend: WasmBackend): tf.TensorInfo {
  const transpose = tf.getKernel('Transpose', 'wasm')!;
  const rank = x.shape.length;
  const perm = [...Array.from({ length: rank - 2 }, (_, i) => i), rank - 1, rank - 2];
  return transpose.kernelFunc({
    inputs: { x },
    backend: backend as unknown as tf.KernelBackend,
    attrs: { perm },
  }) as tf.TensorInfo;
}

const size = (dims: number[]): number => dims.reduce((p, d) => p * d, 1);

/** out[i] = a[i or 0] · b[i or 0] (+ bias), operands untransposed: a [..., M, K], b [..., K, N]. */
function multiply(
  backend: WasmBackend,
  a: tf.TensorInfo,
  b: tf.TensorInfo,
  biasId: number,
  outShape: number[],
): tf.TensorInfo {
  const m = a.shape[a.shape.length - 2]!;
  const k = a.shape[a.shape.length - 1]!;
  const n = b.shape[b.shape.length - 1]!;
  const batchA = size(a.shape.slice(0, -2));
  const batchB = size(b.shape.slice(0, -2));
  const batch = Math.max(batchA, batchB);
  const out = backend.makeOutput(outShape, 'float32');
  const aData = backend.dataIdMap.get(a.dataId);
  const bData = backend.dataIdMap.get(b.dataId);
  const outData = backend.dataIdMap.get(out.dataId);
  const call = (aId: number, bId: number, outId: number, aShape: number[], bShape: number[]): void => {
    if (biasId)
      cFusedMatMul!(
        aId,
        shapeBytes(aShape),
        3,
        bId,
        shapeBytes(bShape),
        3,
        false,
        false,
        LINEAR_ACTIVATION,
        biasId,
        0,
        0,
        outId,
      );
    else cBatchMatMul!(aId, shapeBytes(aShape), 3, bId, shapeBytes(bShape), 3, false, false, outId);
  };
  if (batch === 1) {
    call(aData.id, bData.id, outData.id, [1, m, k], [1, k, n]);
    return out;
  }
  const views: number[] = [];
  const view = (data: TensorData, index: number, size: number): number => {
    const id = backend.dataIdNextNumber++;
    backend.wasm.tfjs.registerTensor(id, size, data.memoryOffset + index * size * 4);
    views.push(id);
    return id;
  };
  try {
    for (let i = 0; i < batch; i++) {
      const aId = batchA === 1 ? aData.id : view(aData, i, m * k);
      const bId = batchB === 1 ? bData.id : view(bData, i, k * n);
      call(aId, bId, view(outData, i, m * n), [1, m, k], [1, k, n]);
    }
  } finally {
    // Unregistering a view also deletes the XNNPACK operator cached for it (a disposal callback).
    for (const id of views) backend.wasm.tfjs.disposeData(id);
  }
  return out;
}

/** op(a)·op(b) (+ bias) through the native BLAS, in place on the heap: no transposes, no views. */
function nativeProduct(
  blas: NativeKernels,
  backend: WasmBackend,
  a: tf.TensorInfo,
  b: tf.TensorInfo,
  ta: boolean,
  tb: boolean,
  bias: tf.TensorInfo | undefined,
  outer: number[],
): tf.TensorInfo | null {
  const ra = a.shape.length;
  const rb = b.shape.length;
  const m = ta ? a.shape[ra - 1]! : a.shape[ra - 2]!;
  const k = ta ? a.shape[ra - 2]! : a.shape[ra - 1]!;
  const kb = tb ? b.shape[rb - 1]! : b.shape[rb - 2]!;
  const n = tb ? b.shape[rb - 2]! : b.shape[rb - 1]!;
  if (k !== kb) throw new Error(`matMul: inner dimensions of [${a.shape}] and [${b.shape}] differ`);
  // Empty products and a bias broadcast from [1]: rare, left to the original kernels.
  if (m === 0 || n === 0 || k === 0 || (bias && bias.shape[0] !== n)) return null;
  const batchA = size(a.shape.slice(0, -2));
  const batchB = size(b.shape.slice(0, -2));
  const out = backend.makeOutput([...outer, m, n], 'float32'); // may grow the heap: take its buffer afterwards
  blas.sgemm(backend.wasm.HEAPU8.buffer as ArrayBuffer, {
    batch: Math.max(batchA, batchB),
    m,
    n,
    k,
    transposeA: ta,
    transposeB: tb,
    aOffset: backend.dataIdMap.get(a.dataId).memoryOffset,
    aStride: batchA === 1 ? 0 : m * k,
    bOffset: backend.dataIdMap.get(b.dataId).memoryOffset,
    bStride: batchB === 1 ? 0 : k * n,
    cOffset: backend.dataIdMap.get(out.dataId).memoryOffset,
    cStride: m * n,
    biasOffset: bias ? backend.dataIdMap.get(bias.dataId).memoryOffset : -1,
  });
  return out;
}

function product(args: KernelArgs, fused: boolean, original: tf.KernelFunc): tf.TensorInfo | tf.TensorInfo[] {
  const { inputs, backend, attrs } = args;
  const a = inputs.a!;
  const b = inputs.b!;
  const bias = inputs.bias;
  const activation = (attrs.activation as string | undefined) ?? 'linear';
  const outerA = a.shape.slice(0, -2);
  const outerB = b.shape.slice(0, -2);
  const sameOuter = outerA.length === outerB.length && outerA.every((d, i) => d === outerB[i]);
  // Broadcasting only where one side has a single matrix.
  const outer = sameOuter || size(outerB) === 1 ? outerA : size(outerA) === 1 ? outerB : null;
  const simple =
    a.dtype === 'float32' &&
    b.dtype === 'float32' &&
    a.shape.length >= 2 &&
    b.shape.length >= 2 &&
    outer !== null &&
    (outerA.length === outerB.length || size(outerA) === 1 || size(outerB) === 1) &&
    (!fused ||
      (activation === 'linear' && !inputs.preluActivationWeights && (!bias || bias.shape.length === 1)));
  const fallback = (): tf.TensorInfo | tf.TensorInfo[] =>
    original(args as unknown as tf.NamedAttrMap & Parameters<tf.KernelFunc>[0]);
  if (!simple) return fallback();
  if (native) {
    return (
      nativeProduct(
        native,
        backend,
        a,
        b,
        Boolean(attrs.transposeA),
        Boolean(attrs.transposeB),
        fused ? bias : undefined,
        outer!,
      ) ?? fallback()
    );
  }
  const temps: tf.TensorInfo[] = [];
  try {
    const aT = attrs.transposeA ? transposeLast2(a, backend) : a;
    if (aT !== a) temps.push(aT);
    const bT = attrs.transposeB ? transposeLast2(b, backend) : b;
    if (bT !== b) temps.push(bT);
    const biasId = fused && bias ? backend.dataIdMap.get(bias.dataId).id : 0;
    const m = aT.shape[aT.shape.length - 2]!;
    const n = bT.shape[bT.shape.length - 1]!;
    if (aT.shape[aT.shape.length - 1] !== bT.shape[bT.shape.length - 2])
      throw new Error(`matMul: inner dimensions of [${a.shape}] and [${b.shape}] differ`);
    return multiply(backend, aT, bT, biasId, [...outer!, m, n]);
  } finally {
    for (const t of temps) backend.disposeData(t.dataId);
  }
}

/**
 * True when products take transpose flags at no cost (the native BLAS, or a native TensorFlow backend):
 * ops then pass flags instead of transposing operands explicitly.
 */
export function matMulFlagsAreFree(): boolean {
  const name = tf.getBackend();
  return name === 'tensorflow' || (name === 'wasm' && native !== null);
}

/**
 * Replace the wasm BatchMatMul and _FusedMatMul kernels (call once the wasm backend is active): native BLAS
 * products when `nativeBlas` is not false and a library opens, XNNPACK ones otherwise. Null off WASM.
 * Calling again with other options switches the engine (the kernels are replaced once).
 */
export function installWasmMatMul(
  options: { nativeBlas?: boolean; threads?: number; why?: string } = {},
): MatMulEngine | null {
  if (tf.getBackend() !== 'wasm') return null;
  const threads = options.threads ?? 1;
  const status =
    options.nativeBlas === false
      ? { ok: false as const, reason: options.why ?? 'native BLAS not requested' }
      : loadNativeKernels(threads);
  const engine: MatMulEngine = status.ok
    ? {
        engine: 'native-blas',
        library: status.kernels.library,
        threads,
        reason: status.kernels.config || 'optimised BLAS',
      }
    : { engine: 'xnnpack', library: null, threads: null, reason: status.reason };
  if (!installed && !replaceKernels()) return null;
  native = status.ok ? status.kernels : null;
  setNativeElementwise(native); // the fused GELU / LayerNorm kernels follow the same engine
  installed = engine;
  return engine;
}

function replaceKernels(): boolean {
  if (!tf.getKernel('BatchMatMul', 'wasm') || !tf.getKernel('_FusedMatMul', 'wasm')) return false;
  wrapWasmKernel('BatchMatMul', (args, original) => product(args as unknown as KernelArgs, false, original));
  wrapWasmKernel('_FusedMatMul', (args, original) => product(args as unknown as KernelArgs, true, original));
  // Signatures of the C functions: (a id, a shape, a rank, b id, b shape, b rank, ...numbers).
  const operands = ['number', 'array', 'number', 'number', 'array', 'number'];
  const numbers = (n: number): string[] => new Array<string>(n).fill('number');
  const wasm = (tf.backend() as unknown as WasmBackend).wasm;
  cBatchMatMul = wasm.cwrap('BatchMatMul', null, [...operands, ...numbers(3)]);
  cFusedMatMul = wasm.cwrap('_FusedMatMul', null, [...operands, ...numbers(7)]);
  return true;
}
