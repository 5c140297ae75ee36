/**
 * Replacement Slice / Unpack / SplitV / Identity kernels for tfjs-backend-wasm 4.22. Its Slice reads the WHOLE input
 * through readSync (a heap copy) for every slice, so unstacking or splitting a tensor into n parts costs n
 * full copies: unstacking attention scores took 45% of a ViT training step (measured). These copy only the
 * sliced region, straight from views on the WASM heap. Installed once on import of main/ml/ops; other
 * backends are untouched. Strings fall back to the original kernels.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';

interface DataInfo {
  dataId: object;
  shape: number[];
  dtype: tf.DataType;
}

interface WasmBackendLike {
  makeOutput(shape: number[], dtype: tf.DataType): DataInfo;
  typedArrayFromHeap(info: DataInfo): Float32Array | Int32Array | Uint8Array;
}

function stridesOf(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) strides[i] = strides[i + 1]! * shape[i + 1]!;
  return strides;
}

/** Copies x[begin : begin+size] into a new output, reading only that region. */
function sliceHeap(backend: WasmBackendLike, x: DataInfo, begin: number[], size: number[]): DataInfo {
  const out = backend.makeOutput(size, x.dtype); // may grow the heap: take views afterwards
  const total = size.reduce((a, b) => a * b, 1);
  if (total === 0) return out;
  const src = backend.typedArrayFromHeap(x);
  const dst = backend.typedArrayFromHeap(out);
  const rank = x.shape.length;
  const strides = stridesOf(x.shape);
  // Trailing axes taken whole form one contiguous run with the first partial axis before them.
  let k = rank - 1;
  while (k > 0 && begin[k] === 0 && size[k] === x.shape[k]) k--;
  const run = size[k]! * strides[k]!;
  const outer = size.slice(0, k);
  const count = outer.reduce((a, b) => a * b, 1);
  const idx = new Array<number>(k).fill(0);
  let o = 0;
  for (let n = 0; n < count; n++) {
    let offset = begin[k]! * strides[k]!;
    for (let d = 0; d < k; d++) offset += (begin[d]! + idx[d]!) * strides[d]!;
    dst.set(src.subarray(offset, offset + run), o);
    o += run;
    for (let d = k - 1; d >= 0; d--) {
      if (++idx[d]! < outer[d]!) break;
      idx[d] = 0;
    }
  }
  return out;
}

let installed = false;
/** The stock WASM BatchMatMul, recorded before anything replaces it (see batchedMatMulIsFast). */
const stockBatchMatMul = tf.getKernel('BatchMatMul', 'wasm')?.kernelFunc;

/**
 * Whether the active backend multiplies batched (3-D) operands at 2-D speed: true on non-WASM backends and
 * when the WASM BatchMatMul kernel has been replaced by main/ml/ops/wasm-matmul.ts (XNNPACK per batch
 * element on heap views); false for the stock WASM kernel (a scalar loop, ~1 GFLOP/s).
 */
export function batchedMatMulIsFast(): boolean {
  if (tf.getBackend() !== 'wasm') return true;
  const current = tf.getKernel('BatchMatMul', 'wasm')?.kernelFunc;
  return stockBatchMatMul !== undefined && current !== stockBatchMatMul;
}

type KernelArgs = Parameters<tf.KernelFunc>[0];

/**
 * Replaces the WASM backend's `name` kernel by `wrap`, which gets the original kernel to fall back on (for
 * the cases it does not handle); setup and dispose functions are kept. False when no such kernel exists.
 */
export function wrapWasmKernel(name: string, wrap: (args: KernelArgs, original: tf.KernelFunc) => ReturnType<tf.KernelFunc>): boolean {
  const config = tf.getKernel(name, 'wasm');
  if (!config) return false;
  tf.unregisterKernel(name, 'wasm');
  tf.registerKernel({ ...config, kernelFunc: (args) => wrap(args, config.kernelFunc) });
  return true;
}

/** Idempotent; a no-op when the WASM backend's kernels are not registered. */
export function installWasmKernelFixes(): void {
  if (installed) return;
  if (!['Slice', 'Unpack', 'SplitV', 'Identity'].every((name) => tf.getKernel(name, 'wasm'))) return;
  installed = true;
  wrapWasmKernel('Slice', (args, original) => {
    const x = args.inputs.x as unknown as DataInfo;
    if (x.dtype === 'string') return original(args);
    const { begin, size } = args.attrs as unknown as { begin: number | number[]; size: number | number[] };
    const [b, s] = tf.slice_util.parseSliceParams(x as unknown as tf.TensorInfo, begin, size);
    return sliceHeap(args.backend as unknown as WasmBackendLike, x, b, s) as unknown as tf.TensorInfo;
  });
  // Identity copied the tensor; tfjs' autodiff clones every tensor a gradient saves (3% of a ViT step).
  // Tensor memory is never written in place, so sharing it with a reference count is safe, as the cpu
  // backend and the WASM Reshape already do.
  wrapWasmKernel('Identity', (args, original) => {
    const x = args.inputs.x as unknown as DataInfo;
    if (x.dtype === 'string') return original(args);
    (args.backend as unknown as { incRef(dataId: object): void }).incRef(x.dataId);
    return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype } as unknown as tf.TensorInfo;
  });
  wrapWasmKernel('Unpack', (args, original) => {
    const value = args.inputs.value as unknown as DataInfo;
    if (value.dtype === 'string') return original(args);
    let axis = (args.attrs as unknown as { axis: number }).axis;
    if (axis < 0) axis += value.shape.length;
    const outShape = value.shape.filter((_, i) => i !== axis);
    const begin = new Array<number>(value.shape.length).fill(0);
    const size = [...value.shape];
    size[axis] = 1;
    const outs: DataInfo[] = [];
    for (let i = 0; i < value.shape[axis]!; i++) {
      begin[axis] = i;
      const o = sliceHeap(args.backend as unknown as WasmBackendLike, value, begin, size);
      outs.push({ dataId: o.dataId, dtype: o.dtype, shape: outShape });
    }
    return outs as unknown as tf.TensorInfo[];
  });
  wrapWasmKernel('SplitV', (args, original) => {
    const x = args.inputs.x as unknown as DataInfo;
    if (x.dtype === 'string') return original(args);
    const { numOrSizeSplits, axis } = args.attrs as unknown as { numOrSizeSplits: number | number[]; axis: number };
    const a = tf.util.parseAxisParam(axis, x.shape)[0]!;
    const sizes = tf.backend_util.prepareSplitSize(x as unknown as tf.Tensor, numOrSizeSplits, a);
    const begin = new Array<number>(x.shape.length).fill(0);
    return sizes.map((s) => {
      const size = [...x.shape];
      size[a] = s;
      const o = sliceHeap(args.backend as unknown as WasmBackendLike, x, [...begin], size);
      begin[a] += s;
      return o;
    }) as unknown as tf.TensorInfo[];
  });
}

installWasmKernelFixes();
