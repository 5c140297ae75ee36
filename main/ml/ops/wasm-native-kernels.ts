/**
 * Fused GELU and LayerNorm kernels for the WASM backend, run by the native kernels (main/ml/native) in
 * place on the heap. A ViT step spends about a fifth of its time in these element-wise passes once the
 * products are native: tfjs runs GELU as ~8 kernels (Erf and Exp are not vectorised in its WASM build)
 * and LayerNorm as ~12. Registered under names of our own; the ops in gelu.ts / layer-norm.ts call them
 * when `nativeElementwiseActive()`, else compose tfjs ops as before. Sums over leading axes replace
 * tfjs' Sum kernel while the native kernels are active.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { NativeKernels } from '../native';
import { wrapWasmKernel } from './wasm-kernels';

export const GELU_KERNEL = 'UsfmGelu';
export const GELU_GRAD_KERNEL = 'UsfmGeluGrad';
export const LAYER_NORM_KERNEL = 'UsfmLayerNorm';
export const LAYER_NORM_GRAD_KERNEL = 'UsfmLayerNormGrad';
export const ADAMW_KERNEL = 'UsfmAdamW';

interface HeapBackend {
  wasm: { HEAPU8: Uint8Array };
  dataIdMap: { get(dataId: object): { memoryOffset: number } };
  makeOutput(shape: number[], dtype: string): tf.TensorInfo;
}

type Args = {
  inputs: Record<string, tf.TensorInfo | undefined>;
  backend: HeapBackend;
  attrs: Record<string, unknown>;
};

let native: NativeKernels | null = null;
let registered = false;

const count = (shape: readonly number[]): number => shape.reduce((p, d) => p * d, 1);

function input(args: Args, name: string): tf.TensorInfo {
  const t = args.inputs[name];
  if (!t || t.dtype !== 'float32' || count(t.shape) === 0)
    throw new Error(`native kernel: input ${name} must be a non-empty float32 tensor`);
  return t;
}

function kernelsOrThrow(): NativeKernels {
  if (!native) throw new Error('native kernels are not active');
  return native;
}

const offset = (b: HeapBackend, t: tf.TensorInfo): number => b.dataIdMap.get(t.dataId).memoryOffset;
// The heap may grow while outputs are allocated: read its buffer after the last makeOutput.
const heap = (b: HeapBackend): ArrayBuffer => b.wasm.HEAPU8.buffer as ArrayBuffer;

function geluForward(args: Args): tf.TensorInfo[] {
  const k = kernelsOrThrow();
  const b = args.backend;
  const x = input(args, 'x');
  const y = b.makeOutput([...x.shape], 'float32');
  const cdf = b.makeOutput([...x.shape], 'float32');
  k.geluForward(heap(b), offset(b, x), offset(b, y), offset(b, cdf), count(x.shape));
  return [y, cdf];
}

function geluBackward(args: Args): tf.TensorInfo {
  const k = kernelsOrThrow();
  const b = args.backend;
  const x = input(args, 'x');
  const cdf = input(args, 'cdf');
  const dy = input(args, 'dy');
  const n = count(x.shape);
  if (count(cdf.shape) !== n || count(dy.shape) !== n)
    throw new Error('UsfmGeluGrad: x, cdf and dy differ in size');
  const dx = b.makeOutput([...x.shape], 'float32');
  k.geluBackward(heap(b), offset(b, x), offset(b, cdf), offset(b, dy), offset(b, dx), n);
  return dx;
}

function layerNormForward(args: Args): tf.TensorInfo[] {
  const k = kernelsOrThrow();
  const b = args.backend;
  const x = input(args, 'x');
  const w = input(args, 'w');
  const bias = input(args, 'b');
  const [m, d] = x.shape as [number, number];
  if (x.shape.length !== 2 || count(w.shape) !== d || count(bias.shape) !== d)
    throw new Error(`UsfmLayerNorm: x [${x.shape}] needs w and b of ${d}`);
  const y = b.makeOutput([m, d], 'float32');
  const xhat = b.makeOutput([m, d], 'float32');
  const rstd = b.makeOutput([m, 1], 'float32');
  k.layerNormForward(
    heap(b),
    offset(b, x),
    offset(b, w),
    offset(b, bias),
    offset(b, y),
    offset(b, xhat),
    offset(b, rstd),
    m,
    d,
    args.attrs.eps as number,
  );
  return [y, xhat, rstd];
}

function layerNormBackward(args: Args): tf.TensorInfo[] {
  const k = kernelsOrThrow();
  const b = args.backend;
  const g = input(args, 'g');
  const xhat = input(args, 'xhat');
  const rstd = input(args, 'rstd');
  const w = input(args, 'w');
  const [m, d] = g.shape as [number, number];
  if (g.shape.length !== 2 || count(xhat.shape) !== m * d || count(rstd.shape) !== m || count(w.shape) !== d)
    throw new Error(`UsfmLayerNormGrad: shapes do not fit g [${g.shape}]`);
  const dx = b.makeOutput([m, d], 'float32');
  const dw = b.makeOutput([d], 'float32');
  const db = b.makeOutput([d], 'float32');
  k.layerNormBackward(
    heap(b),
    offset(b, g),
    offset(b, xhat),
    offset(b, rstd),
    offset(b, w),
    offset(b, dx),
    offset(b, dw),
    offset(b, db),
    m,
    d,
  );
  return [dx, dw, db];
}

/** AdamW on one parameter: [p', m', v'] from p, m, v, g; attrs carry the step's constants (adamw.ts). */
function adamw(args: Args): tf.TensorInfo[] {
  const k = kernelsOrThrow();
  const b = args.backend;
  const [p, m, v, g] = (['p', 'm', 'v', 'g'] as const).map((name) => input(args, name)) as [
    tf.TensorInfo,
    tf.TensorInfo,
    tf.TensorInfo,
    tf.TensorInfo,
  ];
  const n = count(p.shape);
  if ([m, v, g].some((t) => count(t.shape) !== n)) throw new Error('UsfmAdamW: p, m, v and g differ in size');
  const outs = [p, m, v].map(() => b.makeOutput([...p.shape], 'float32'));
  const a = args.attrs as Record<string, number>;
  const constants = [
    a.beta1!,
    a.oneMinusBeta1!,
    a.beta2!,
    a.oneMinusBeta2!,
    a.stepSize!,
    a.invSqrtBc2!,
    a.eps!,
    a.decay!,
  ];
  k.adamw(
    heap(b),
    offset(b, p),
    offset(b, m),
    offset(b, v),
    offset(b, g),
    offset(b, outs[0]!),
    offset(b, outs[1]!),
    offset(b, outs[2]!),
    n,
    ...constants,
  );
  return outs;
}

/**
 * Sum over leading axes (bias gradients, gradients of broadcast tensors: 7-10% of a step in tfjs' WASM
 * Sum, which reduces through a transpose) as native column sums; any other reduction goes to `original`.
 */
function sum(args: Args, original: tf.KernelFunc): tf.TensorInfo | tf.TensorInfo[] {
  const x = args.inputs.x;
  const fallback = () => original(args as unknown as Parameters<tf.KernelFunc>[0]);
  if (!native || !x || x.dtype !== 'float32' || count(x.shape) === 0) return fallback();
  const axes = tf.util.parseAxisParam(args.attrs.axis as number | number[], x.shape).sort((p, q) => p - q);
  const leading = axes.length > 0 && axes.every((axis, i) => axis === i);
  if (!leading) return fallback();
  const k = axes.length;
  const b = args.backend;
  const outShape = args.attrs.keepDims ? x.shape.map((d, i) => (i < k ? 1 : d)) : x.shape.slice(k);
  const out = b.makeOutput(outShape, 'float32');
  native.columnSum(
    heap(b),
    offset(b, x),
    offset(b, out),
    count(x.shape.slice(0, k)),
    count(x.shape.slice(k)),
  );
  return out;
}

/** Use these kernels on WASM (null: back to composed tfjs ops and tfjs' own Sum). Registers them once. */
export function setNativeElementwise(kernels: NativeKernels | null): void {
  native = kernels;
  if (registered || !kernels) return;
  wrapWasmKernel('Sum', (args, original) => sum(args as unknown as Args, original));
  const table: [string, (args: Args) => tf.TensorInfo | tf.TensorInfo[]][] = [
    [GELU_KERNEL, geluForward],
    [GELU_GRAD_KERNEL, geluBackward],
    [LAYER_NORM_KERNEL, layerNormForward],
    [LAYER_NORM_GRAD_KERNEL, layerNormBackward],
    [ADAMW_KERNEL, adamw],
  ];
  for (const [kernelName, fn] of table)
    tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc: (args) => fn(args as unknown as Args) });
  registered = true;
}

export function nativeElementwiseActive(): boolean {
  return native !== null && tf.getBackend() === 'wasm';
}

/** Runs one of the kernels above on tensors. */
export function runNative(
  kernel: string,
  inputs: Record<string, tf.Tensor>,
  attrs: Record<string, number> = {},
): tf.Tensor[] {
  const out = tf
    .engine()
    .runKernel(kernel, inputs as unknown as tf.NamedTensorMap, attrs as unknown as tf.NamedAttrMap) as
    tf.Tensor | tf.Tensor[];
  return Array.isArray(out) ? out : [out];
}
