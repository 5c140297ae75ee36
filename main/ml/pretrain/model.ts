/**
 * The models trained by each recipe: a ViT encoder (main/ml/vit) plus the recipe's head, all parameters in
 * one Map under PyTorch names so checkpoints load in PyTorch as they are:
 *  - MAE: MAE's decoder (`decoder_embed`, `mask_token`, fixed `decoder_pos_embed`, `decoder_blocks.{i}`,
 *    `decoder_norm`, `decoder_pred` to the 16·16 grey pixels of each patch).
 *  - USFM / USFM+: a linear head `decoder_pred` from each patch token to its 16·16 pixels (SimMIM's 1x1 conv
 *    + pixel shuffle for one channel), and the encoder's `mask_token` when masked patches are filled by it.
 */
import * as tf from '@tensorflow/tfjs-core';
import { gatherRows, layerNorm, linear } from '../ops';
import {
  addParam,
  blockForward,
  createVit,
  encode,
  initBlock,
  initLayerNorm,
  initLinear,
  initToken,
  numPatches,
  seededRandom,
  sincosPosEmbed2d,
  vitConfig,
  type ParamMap,
  type VitConfig,
  type VitLayout,
  type VitModel,
  type VitSize,
} from '../vit';

import { MAE_DECODERS, type DecoderSpec, type FillMode, type Recipe } from './recipes';

export { MAE_DECODERS, type DecoderSpec, type FillMode, type Recipe };

export const PIXELS_PER_PATCH = 16 * 16;

export interface PretrainModelConfig {
  recipe: Recipe;
  size: VitSize;
  imgSize: number;
  layout: VitLayout;
  fill: FillMode;
  dropPathRate: number;
  decoder: DecoderSpec | null;
  /** Explicit encoder dimensions instead of the size preset (small test models). */
  dims?: { embedDim: number; depth: number; numHeads: number };
}

export interface PretrainModel {
  config: PretrainModelConfig;
  encoder: VitModel;
  /** Head parameters only (decoder / linear head). */
  head: ParamMap;
  /** Encoder and head together, in state-dict order. */
  params: ParamMap;
}

export function encoderConfig(c: PretrainModelConfig): VitConfig {
  return vitConfig(c.dims ?? c.size, {
    layout: c.layout,
    imgSize: c.imgSize,
    dropPathRate: c.dropPathRate,
    maskToken: c.recipe !== 'mae' && c.fill === 'token',
  });
}

export function createPretrainModel(config: PretrainModelConfig, seed: number): PretrainModel {
  const rng = seededRandom(seed);
  const encoder = createVit(encoderConfig(config), { rng });
  const head: ParamMap = new Map();
  const d = encoder.config.embedDim;
  if (config.recipe === 'mae') {
    const dec = config.decoder ?? MAE_DECODERS[config.size];
    const n = numPatches(encoder.config);
    const grid = Math.round(Math.sqrt(n));
    initLinear(head, 'decoder_embed', dec.dim, d, 'mae', rng);
    initToken(head, 'mask_token', dec.dim, 'mae', rng);
    addParam(head, 'decoder_pos_embed', [1, n + 1, dec.dim], sincosPosEmbed2d(dec.dim, grid, true), false);
    for (let i = 0; i < dec.depth; i++) {
      initBlock(head, `decoder_blocks.${i}.`, { dim: dec.dim, heads: dec.heads, mlpRatio: 4, layout: 'timm', lnEps: 1e-6 }, { scheme: 'mae', rng });
    }
    initLayerNorm(head, 'decoder_norm', dec.dim);
    initLinear(head, 'decoder_pred', PIXELS_PER_PATCH, dec.dim, 'mae', rng);
  } else {
    initLinear(head, 'decoder_pred', PIXELS_PER_PATCH, d, encoder.config.layout === 'beit' ? 'beit' : 'mae', rng);
  }
  const params: ParamMap = new Map([...encoder.params, ...head]);
  return { config: { ...config, decoder: config.recipe === 'mae' ? (config.decoder ?? MAE_DECODERS[config.size]) : null }, encoder, head, params };
}

export function disposePretrainModel(model: PretrainModel): void {
  for (const v of model.params.values()) v.dispose();
  model.params.clear();
  model.encoder.params.clear();
  model.head.clear();
}

export function trainableOf(model: PretrainModel): Map<string, tf.Variable> {
  return new Map([...model.params].filter(([, v]) => v.trainable));
}

/**
 * MAE decoder: latent [B, 1+K, D] of the visible patches `visible` (B·K indices, ascending per sample) ->
 * per-patch pixel predictions [B, N, 256] in MAE's (row, col) patch vector order.
 * The full sequence is one row gather from [embedded tokens; mask_token] (ScatterNd gradient, summing the
 * mask token's rows), instead of MAE's concat + gather with an index tensor.
 */
export function maeDecode(model: PretrainModel, latent: tf.Tensor3D, visible: Int32Array): tf.Tensor3D {
  const dec = model.config.decoder!;
  const p = (name: string): tf.Variable => {
    const v = model.head.get(name);
    if (!v) throw new Error(`missing decoder parameter ${name}`);
    return v;
  };
  const [batch, tokens, d] = latent.shape;
  const kept = tokens - 1;
  const n = numPatches(model.encoder.config);
  const embedded = linear(tf.reshape(latent, [batch * tokens, d]) as tf.Tensor2D, p('decoder_embed.weight') as tf.Tensor2D, p('decoder_embed.bias') as tf.Tensor1D);
  const table = tf.concat([embedded, tf.reshape(p('mask_token'), [1, dec.dim])], 0) as tf.Tensor2D;
  const maskRow = batch * tokens;
  const index = new Int32Array(batch * (n + 1));
  for (let b = 0; b < batch; b++) {
    const rowBase = b * (n + 1);
    index[rowBase] = b * tokens; // CLS
    for (let i = 0; i < n; i++) index[rowBase + 1 + i] = maskRow;
    for (let k = 0; k < kept; k++) index[rowBase + 1 + visible[b * kept + k]!] = b * tokens + 1 + k;
  }
  let x = gatherRows(table, index);
  x = tf.reshape(tf.add(tf.reshape(x, [batch, n + 1, dec.dim]), tf.reshape(p('decoder_pos_embed'), [1, n + 1, dec.dim])), [batch * (n + 1), dec.dim]) as tf.Tensor2D;
  const spec = { dim: dec.dim, heads: dec.heads, mlpRatio: 4, layout: 'timm' as const, lnEps: 1e-6 };
  for (let i = 0; i < dec.depth; i++) x = blockForward(model.head, `decoder_blocks.${i}.`, spec, x, { batch, tokens: n + 1 });
  x = layerNorm(x, p('decoder_norm.weight') as tf.Tensor1D, p('decoder_norm.bias') as tf.Tensor1D, 1e-6);
  const pred = linear(x, p('decoder_pred.weight') as tf.Tensor2D, p('decoder_pred.bias') as tf.Tensor1D);
  return tf.slice(tf.reshape(pred, [batch, n + 1, PIXELS_PER_PATCH]), [0, 1, 0], [batch, n, PIXELS_PER_PATCH]) as tf.Tensor3D;
}

/** USFM linear head: patch tokens of [B, 1+N, D] -> per-patch pixels [B, N, 256]. */
export function linearHead(model: PretrainModel, tokens: tf.Tensor3D): tf.Tensor3D {
  const [batch, t, d] = tokens.shape;
  const patchTokens = tf.reshape(tf.slice(tokens, [0, 1, 0], [batch, t - 1, d]), [batch * (t - 1), d]) as tf.Tensor2D;
  const w = model.head.get('decoder_pred.weight')! as tf.Tensor2D;
  const b = model.head.get('decoder_pred.bias')! as tf.Tensor1D;
  return tf.reshape(linear(patchTokens, w, b), [batch, t - 1, PIXELS_PER_PATCH]);
}

export { encode };
