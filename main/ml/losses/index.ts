/**
 * Reconstruction losses for the pretraining recipes. Image layout: NCHW [B, 1, H, W] (grey, the same layout
 * as the encoder input), values in [0, 1]. Per-image terms return [B]; batch losses a scalar. Every function
 * is differentiable on WASM (DFT and Gaussian filters are matrix products). See main/ml/README.md.
 */
export { magnitudeSpectrum, magnitudeSpectrumTransposed, dft2Transposed, idft2FromTransposed, blockMagnitude } from './dft';
export { ssimPerImage, gaussianWindow1d, SSIM_WINDOW, SSIM_SIGMA } from './ssim';
export { lsdPerImage, freqL2PerImage, LSD_EPS } from './spectral';
export { l1PerImage, maskedL1 } from './pixel';
export { maeLoss, type MaeLossOptions } from './mae';
export { usfmPlusLoss, USFM_PLUS_LAMBDAS, type UsfmPlusLambdas, type UsfmPlusLoss } from './usfm-plus';
export { bandEdges, bandCount, bandStopMask, freqCorrupt, type BandEdgeOptions } from './band-stop';
