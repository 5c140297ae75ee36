/**
 * Matrix products with hand-written gradients; transposes explicit or as flags, whichever is cheaper.
 *
 * With the native BLAS engine on WASM (main/ml/ops/wasm-matmul.ts) or a native TensorFlow backend,
 * transpose flags cost nothing, so every product below passes flags (`matMulFlagsAreFree`). Otherwise:
 *
 * Measured on tfjs-backend-wasm 4.22 (XNNPACK, SIMD): a 2-D product without transpose flags runs at about
 * 16 GFLOP/s, but with transposeA/transposeB it falls back to a generic kernel at 0.5-1.5 GFLOP/s; batched
 * (3-D) products use that slow kernel whatever the flags. tfjs' built-in matMul gradient uses the flags, so
 * its backward pass was 10-20x slower than the forward. Here every 2-D product is a flag-free product of
 * explicitly transposed operands (a transpose costs about as much as one pass over the matrix), forward and
 * backward. Also, the WASM _FusedMatMul ignores transposeB when a bias is given (wrong results, measured), so
 * biases are separate broadcast adds.
 */
import * as tf from '@tensorflow/tfjs-core';
import { batchedMatMulIsFast } from './wasm-kernels';
import { matMulFlagsAreFree } from './wasm-matmul';

type Args = (tf.Tensor | tf.GradSaveFunc)[];

function t2(x: tf.Tensor2D): tf.Tensor2D {
  return tf.transpose(x);
}

function nn(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  return tf.matMul(a, b);
}

/**
 * Gradients of C = op(A)·op(B) through `mm(x, y, tx, ty)` = op(x)·op(y):
 * dA = dC·op(B)ᵀ (or its transpose op(B)·dCᵀ when A was transposed), dB likewise.
 */
function flaggedGrads<T extends tf.Tensor>(
  mm: (x: T, y: T, tx: boolean, ty: boolean) => T,
  dC: T,
  a: T,
  b: T,
  ta: boolean,
  tb: boolean,
): [T, T] {
  const dA = ta ? mm(b, dC, tb, true) : mm(dC, b, false, !tb);
  const dB = tb ? mm(dC, a, true, ta) : mm(a, dC, !ta, false);
  return [dA, dB];
}

/** op(a)·op(b) for 2-D tensors without gradient: flags where they are free, explicit transposes otherwise. */
function mm2d(a: tf.Tensor2D, b: tf.Tensor2D, transposeA: boolean, transposeB: boolean): tf.Tensor2D {
  if (matMulFlagsAreFree()) return tf.matMul(a, b, transposeA, transposeB);
  return nn(transposeA ? t2(a) : a, transposeB ? t2(b) : b);
}

type ProductOp = (a: tf.Tensor, b: tf.Tensor) => tf.Tensor;

/**
 * The differentiable op(a)·op(b) for one pair of flags, cached: forward through `mm`; backward through `mm`
 * with flags where flags are free, else through `explicitGrads` (flag-free products).
 */
function productOp<T extends tf.Tensor>(
  cache: Map<string, ProductOp>,
  ta: boolean,
  tb: boolean,
  mm: (x: T, y: T, tx: boolean, ty: boolean) => T,
  explicitGrads: (dC: T, a: T, b: T, ta: boolean, tb: boolean) => [T, T],
): ProductOp {
  const key = `${ta}${tb}`;
  let op = cache.get(key);
  if (!op) {
    op = tf.customGrad((...args: Args) => {
      const [a, b, save] = args as [T, T, tf.GradSaveFunc];
      // Saved (not closed over) so the inputs outlive any tidy between the forward and backward passes.
      save([a, b]);
      const flags = matMulFlagsAreFree();
      return {
        value: mm(a, b, ta, tb),
        gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
          const [sa, sb] = saved as [T, T];
          return flags ? flaggedGrads(mm, dy as T, sa, sb, ta, tb) : explicitGrads(dy as T, sa, sb, ta, tb);
        },
      };
    }) as ProductOp;
    cache.set(key, op);
  }
  return op;
}

/** Gradients of C = op(A)·op(B) with flag-free products only. */
function productGrads2d(
  dC: tf.Tensor2D,
  a: tf.Tensor2D,
  b: tf.Tensor2D,
  ta: boolean,
  tb: boolean,
): [tf.Tensor2D, tf.Tensor2D] {
  if (!ta && !tb) return [nn(dC, t2(b)), nn(t2(a), dC)];
  if (!ta && tb) return [nn(dC, b), nn(t2(dC), a)];
  if (ta && !tb) return [nn(b, t2(dC)), nn(a, dC)];
  return [t2(nn(dC, b)), t2(nn(a, dC))];
}

const ops2d = new Map<string, ProductOp>();

/** op(a)·op(b) for 2-D tensors, differentiable on every backend, fast on WASM. */
export function matMul2d(
  a: tf.Tensor2D,
  b: tf.Tensor2D,
  transposeA = false,
  transposeB = false,
): tf.Tensor2D {
  return productOp(ops2d, transposeA, transposeB, mm2d, productGrads2d)(a, b) as tf.Tensor2D;
}

/**
 * Batched flag-free product. With the stock WASM kernel (~1 GFLOP/s for batches) it is one 2-D product per
 * batch entry, 5-15 GFLOP/s even for attention-sized [197, 64] matrices (with the slicing fix of
 * wasm-kernels.ts; tfjs' own unstack made the loop quadratic). Other backends, and WASM once the training
 * setup replaced BatchMatMul (main/ml/ops/wasm-matmul.ts, no copies), take the batched product directly.
 * No gradient: a building block for ops with their own backward pass.
 */
export function bmmNN(a: tf.Tensor3D, b: tf.Tensor3D): tf.Tensor3D {
  if (batchedMatMulIsFast()) return tf.matMul(a, b);
  const as = tf.unstack(a) as tf.Tensor2D[];
  const bs = tf.unstack(b) as tf.Tensor2D[];
  return tf.stack(as.map((x, i) => tf.matMul(x, bs[i]!))) as tf.Tensor3D;
}

/** Swaps the last two axes of [N, R, C]. */
export function t3(x: tf.Tensor3D): tf.Tensor3D {
  return tf.transpose(x, [0, 2, 1]);
}

/** Batched op(a)·op(b) without gradient: flags where they are free, explicit transposes otherwise. */
export function bmm(a: tf.Tensor3D, b: tf.Tensor3D, transposeA = false, transposeB = false): tf.Tensor3D {
  if (matMulFlagsAreFree()) return tf.matMul(a, b, transposeA, transposeB);
  return bmmNN(transposeA ? t3(a) : a, transposeB ? t3(b) : b);
}

function productGrads3d(
  dC: tf.Tensor3D,
  a: tf.Tensor3D,
  b: tf.Tensor3D,
  ta: boolean,
  tb: boolean,
): [tf.Tensor3D, tf.Tensor3D] {
  if (!ta && !tb) return [bmmNN(dC, t3(b)), bmmNN(t3(a), dC)];
  if (!ta && tb) return [bmmNN(dC, b), bmmNN(t3(dC), a)];
  if (ta && !tb) return [bmmNN(b, t3(dC)), bmmNN(a, dC)];
  return [t3(bmmNN(dC, b)), t3(bmmNN(a, dC))];
}

const ops3d = new Map<string, ProductOp>();

/**
 * Batched op(a)·op(b) for 3-D tensors with the same batch size (no broadcasting), as a loop of 2-D
 * products. Prefer matMul2d where the batch can be folded into the rows.
 */
export function batchMatMul(
  a: tf.Tensor3D,
  b: tf.Tensor3D,
  transposeA = false,
  transposeB = false,
): tf.Tensor3D {
  if (a.shape[0] !== b.shape[0])
    throw new Error(`batchMatMul: batch sizes differ (${a.shape[0]} vs ${b.shape[0]})`);
  return productOp(ops3d, transposeA, transposeB, bmm, productGrads3d)(a, b) as tf.Tensor3D;
}

function makeLinear(withBias: boolean, inputGrad: boolean): (...inputs: tf.Tensor[]) => tf.Tensor {
  return tf.customGrad((...args: Args) => {
    const x = args[0] as tf.Tensor2D;
    const w = args[1] as tf.Tensor2D;
    const save = args[args.length - 1] as tf.GradSaveFunc;
    save([x, w]);
    const flags = matMulFlagsAreFree();
    const xw = flags ? tf.matMul(x, w, false, true) : nn(x, t2(w)); // else the [out, in] weight transposed once (small next to the product)
    return {
      value: withBias ? tf.add(xw, args[2] as tf.Tensor1D) : xw,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const g = dy as tf.Tensor2D;
        const [sx, sw] = saved as [tf.Tensor2D, tf.Tensor2D];
        const dx = inputGrad ? nn(g, sw) : tf.zerosLike(sx);
        const dw = flags ? tf.matMul(g, sx, true, false) : nn(t2(g), sx);
        return withBias ? [dx, dw, tf.sum(g, 0)] : [dx, dw];
      },
    };
  });
}

const linearOps = {
  biasGrad: makeLinear(true, true),
  noBiasGrad: makeLinear(false, true),
  biasConst: makeLinear(true, false),
  noBiasConst: makeLinear(false, false),
};

/**
 * PyTorch's nn.Linear on rows: y = x·Wᵀ + b with x [M, in], weight [out, in] (PyTorch's layout), bias [out].
 * `constantInput`: x is data, not a function of parameters (image patches), so dx is not computed.
 */
export function linear(
  x: tf.Tensor2D,
  weight: tf.Tensor2D,
  bias?: tf.Tensor1D,
  options: { constantInput?: boolean } = {},
): tf.Tensor2D {
  if (x.shape[1] !== weight.shape[1])
    throw new Error(`linear: input [${x.shape}] does not fit weight [${weight.shape}]`);
  const c = options.constantInput ?? false;
  if (bias) return (c ? linearOps.biasConst : linearOps.biasGrad)(x, weight, bias) as tf.Tensor2D;
  return (c ? linearOps.noBiasConst : linearOps.noBiasGrad)(x, weight) as tf.Tensor2D;
}
