/**
 * A pretraining run's configuration: what the user asks for (PretrainRequest, the `pretrain.start` input and
 * the CLI flags) and everything resolved from it (recipe defaults, schedule, batch split), recorded in the
 * run so a resumed run continues with exactly the same settings.
 */
import { PretrainRequest } from '../../api/contract/pretrain';
import { MAE_DECODERS, RECIPE_DEFAULTS, type DecoderSpec, type FillMode, type Recipe } from './recipes';

export { PretrainRequest };

export interface ResolvedPretrainConfig {
  request: PretrainRequest;
  datasetId: string;
  datasetName: string;
  recipe: Recipe;
  size: 'tiny' | 'small' | 'base';
  imgSize: number;
  layout: 'timm' | 'beit';
  fill: FillMode;
  decoder: DecoderSpec | null;
  seed: number;
  coneAware: boolean;
  effectiveBatch: number;
  microBatch: number;
  totalSteps: number;
  stepsPerEpoch: number;
  baseLr: number;
  peakLr: number;
  minLr: number;
  warmupSteps: number;
  weightDecay: number;
  beta1: number;
  beta2: number;
  eps: number;
  clipNorm: number;
  maskRatio: number;
  maskBlockPixels: number;
  cropScale: [number, number];
  dropPathRate: number;
  alpha: number;
  stoppedBandFraction: number;
  checkpointEvery: number;
  keepCheckpoints: number;
  previewEvery: number;
  init: string | null;
}

/** Largest micro-batch that fits the WASM heap comfortably for a tiny model (16 at 224 px, 4x that at 112). */
export function defaultMicroBatch(size: 'tiny' | 'small' | 'base', img: number): number {
  const at224 = size === 'tiny' ? 16 : size === 'small' ? 8 : 4;
  return img <= 112 ? at224 * 4 : at224;
}

export function resolveConfig(request: PretrainRequest, dataset: { id: string; name: string; itemCount: number; hasCones: boolean }): ResolvedPretrainConfig {
  const d = RECIPE_DEFAULTS[request.recipe];
  const effectiveBatch = request.batch;
  const microBatch = Math.min(effectiveBatch, request.microBatch ?? defaultMicroBatch(request.model, request.img));
  const stepsPerEpoch = Math.max(1, Math.ceil(dataset.itemCount / effectiveBatch));
  const totalSteps = request.steps ?? (request.epochs ?? 1) * stepsPerEpoch;
  const peakLr = ((request.baseLr ?? d.baseLr) * effectiveBatch) / 256;
  const checkpointEvery = request.checkpointEvery ?? Math.max(1, Math.min(500, Math.ceil(totalSteps / 10)));
  const fill: FillMode = request.recipe === 'mae' ? 'token' : (request.fill ?? d.fill);
  return {
    request,
    datasetId: dataset.id,
    datasetName: dataset.name,
    recipe: request.recipe,
    size: request.model,
    imgSize: request.img,
    layout: request.layout ?? d.layout,
    fill,
    decoder: request.recipe === 'mae' ? MAE_DECODERS[request.model] : null,
    seed: request.seed,
    coneAware: request.coneAware === 'on' || (request.coneAware === 'auto' && dataset.hasCones),
    effectiveBatch,
    microBatch,
    totalSteps,
    stepsPerEpoch,
    baseLr: request.baseLr ?? d.baseLr,
    peakLr,
    minLr: peakLr * d.minLrFraction,
    warmupSteps: request.warmupSteps ?? Math.round(totalSteps * d.warmupFraction),
    weightDecay: request.weightDecay ?? d.weightDecay,
    beta1: d.beta1,
    beta2: d.beta2,
    eps: d.eps,
    clipNorm: request.clipNorm ?? d.clipNorm,
    maskRatio: request.maskRatio ?? d.maskRatio,
    maskBlockPixels: d.maskBlockPixels,
    cropScale: d.cropScale,
    dropPathRate: request.dropPath ?? d.dropPathRate,
    alpha: request.alpha ?? d.alpha,
    stoppedBandFraction: d.stoppedBandFraction,
    checkpointEvery,
    keepCheckpoints: request.keepCheckpoints,
    previewEvery: request.previewEvery ?? checkpointEvery,
    init: request.init ?? null,
  };
}
