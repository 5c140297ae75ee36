/**
 * Recipe defaults. Every value can be overridden per run and is recorded in the run's configuration.
 * Sources: MAE (He et al. 2022, pretraining settings of its appendix A.1), SimMIM (Xie et al. 2022) as
 * USFM (Jiao et al. 2024) uses it, and USFM+ as this project defines it (README of the reference numerics).
 */
export type Recipe = 'mae' | 'usfm' | 'usfm-plus';
export type FillMode = 'frequency' | 'mean' | 'token';
export type ModelSizeName = 'tiny' | 'small' | 'base';

export interface DecoderSpec {
  dim: number;
  depth: number;
  heads: number;
}

/** Encoder width of each size (timm's vit_tiny/small/base). */
export const VIT_WIDTHS: Record<ModelSizeName, number> = { tiny: 192, small: 384, base: 768 };

/** MAE's decoder for ViT-B is 8 blocks of 512 (16 heads); smaller encoders get proportionally smaller ones. */
export const MAE_DECODERS: Record<ModelSizeName, DecoderSpec> = {
  tiny: { dim: 128, depth: 4, heads: 4 },
  small: { dim: 256, depth: 8, heads: 8 },
  base: { dim: 512, depth: 8, heads: 16 },
};

export interface RecipeDefaults {
  /** Learning rate per 256 images: lr = baseLr × effective batch / 256. */
  baseLr: number;
  /** Floor of the cosine decay, as a fraction of the peak rate. */
  minLrFraction: number;
  /** Warmup as a fraction of the total steps (MAE: 40 of 800 epochs; SimMIM: 10 of 100). */
  warmupFraction: number;
  weightDecay: number;
  beta1: number;
  beta2: number;
  eps: number;
  /** Global-norm gradient clipping; 0 = none (MAE clips nothing, SimMIM clips at 5). */
  clipNorm: number;
  /** Fraction of the (eligible) patches masked. */
  maskRatio: number;
  /** Masking block side in pixels for block masking (SimMIM / USFM: 32). */
  maskBlockPixels: number;
  /** RandomResizedCrop area range. */
  cropScale: [number, number];
  dropPathRate: number;
  fill: FillMode;
  /** USFM: weight of the frequency L2 term beside the masked L1. */
  alpha: number;
  /** USFM+: fraction of the frequency bands stopped by the corruption. */
  stoppedBandFraction: number;
  layout: 'timm' | 'beit';
}

/** USFM (Jiao et al. 2024): SimMIM block masking with band-stop frequency fill. */
const USFM_DEFAULTS: RecipeDefaults = {
  baseLr: 1e-4,
  minLrFraction: 0.01,
  warmupFraction: 0.1,
  weightDecay: 0.05,
  beta1: 0.9,
  beta2: 0.999,
  eps: 1e-8,
  clipNorm: 5,
  maskRatio: 0.6,
  maskBlockPixels: 32,
  cropScale: [0.67, 1],
  dropPathRate: 0.1,
  fill: 'frequency',
  // The orthonormal spectra's squared error is at most the pixel MSE (Parseval), an order below the L1
  // term on [0, 1] images: α = 1 makes it a tenth of the loss on typical ultrasound.
  alpha: 1,
  stoppedBandFraction: 0.5,
  layout: 'beit',
};

export const RECIPE_DEFAULTS: Record<Recipe, RecipeDefaults> = {
  mae: {
    baseLr: 1.5e-4,
    minLrFraction: 0,
    warmupFraction: 0.05,
    weightDecay: 0.05,
    beta1: 0.9,
    beta2: 0.95,
    eps: 1e-8,
    clipNorm: 0,
    maskRatio: 0.75,
    maskBlockPixels: 16,
    cropScale: [0.2, 1],
    dropPathRate: 0,
    fill: 'token', // unused: the MAE encoder never sees masked patches
    alpha: 0,
    stoppedBandFraction: 0.5,
    layout: 'timm',
  },
  usfm: USFM_DEFAULTS,
  // USFM+ shares USFM's corruption and schedule; its loss has no frequency L2 term.
  'usfm-plus': { ...USFM_DEFAULTS, alpha: 0 },
};

/** Input normalisation of the grey [0, 1] image before the encoder: the mean/std of ImageNet's channel statistics. */
export const INPUT_MEAN = 0.449;
export const INPUT_STD = 0.226;
