/**
 * Vision Transformer encoder in TensorFlow.js with PyTorch (timm / MAE and BEiT / USFM) parameter names.
 *
 * Parameters: `model.params` is an ordered Map<PyTorch name, tf.Variable> in PyTorch shapes (Linear weights
 * [out, in], patch conv [D, 3, 16, 16]). `getStateDict` / `loadStateDict` exchange them as Float32Array in
 * those shapes, no conversion needed. Images are NCHW [B, 1|3, H, W]; grey images use the patch conv
 * summed over its input channels (equal to the 3-channel forward on a replicated grey image).
 *
 * Typical use (inside tf.tidy / tf.variableGrads):
 *   const model = createVit(vitConfig('tiny', { layout: 'timm', imgSize: 224, dropPathRate: 0.1 }), { seed: 1 });
 *   const tokens = encode(model, images, { training: true, visibleIdx });   // [B, 1+T, D]
 *   const feature = pool(model, tokens);                                     // [B, D]
 *   const grads = tf.variableGrads(() => loss(...), [...trainableParams(model).values()]);
 */
export { vitConfig, validateVitConfig, gridSize, numPatches, relPosTableRows, VIT_SIZES, type VitConfig, type VitLayout, type VitSize } from './config';
export { createVit, disposeVit, encode, pool, trainableParams, vitParamCount, blockSpec, type VitModel, type CreateVitOptions, type EncodeOptions } from './model';
export { initBlock, blockForward, type BlockSpec, type BlockInitOptions, type BlockRun } from './block';
export { addParam, initLinear, initLayerNorm, initToken, getParam, disposeParams, countParams, constantValues, type ParamMap, type InitScheme } from './params';
export { getStateDict, loadStateDict, StateDictError, DERIVED_BUFFERS, type StateDict, type StateTensor, type LoadReport } from './state-dict';
export { patchify, unpatchify, patchMaskToPixels, type PatchOrder } from './patches';
export { sincosPosEmbed2d, relativePositionIndex, relativePositionIndexSubset } from './pos-embed';
export { seededRandom, fillNormal, fillTruncNormal, fillUniform, type RandomSource } from './random';
