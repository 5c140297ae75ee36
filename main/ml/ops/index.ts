/**
 * Differentiable building blocks that work (forward and backward) on every tfjs backend, WASM included.
 * See main/ml/README.md for why each exists. Training also needs tfjs' built-in gradients registered:
 * `await ensureGradients()` from main/ml/train/gradients.
 */
import { batchedMatMulIsFast, installWasmKernelFixes } from './wasm-kernels';

export { batchedMatMulIsFast, installWasmKernelFixes };
export { matMul2d, batchMatMul, linear } from './matmul';
export { layerNorm } from './layer-norm';
export { gelu } from './gelu';
export { attention, type AttentionShape } from './attention';
export { gatherRows, selectRowsOneHot, oneHotRows } from './gather';
export { safeSqrt, magnitude } from './elementwise';
