/**
 * The ViT encoder: parameter creation (MAE / BEiT initialisation) and forward passes on full images,
 * on MAE's visible patches only, and with SimMIM mask-token filling.
 */
import * as tf from '@tensorflow/tfjs-core';
import { gatherRows, layerNorm, linear, selectRowsOneHot } from '../ops';
import { blockForward, initBlock, type BlockSpec } from './block';
import { gridSize, numPatches, relPosTableRows, validateVitConfig, type VitConfig } from './config';
import { patchify } from './patches';
import { addParam, countParams, disposeParams, getParam, initLayerNorm, initToken, type InitScheme, type ParamMap } from './params';
import { relativePositionIndex, relativePositionIndexSubset, sincosPosEmbed2d } from './pos-embed';
import { fillNormal, fillUniform, seededRandom, type RandomSource } from './random';

export interface VitModel {
  config: VitConfig;
  /** PyTorch names -> variables in PyTorch shapes, in state-dict order. Fixed tables (MAE sin-cos) are not trainable. */
  params: ParamMap;
}

export interface CreateVitOptions {
  /** Default: 'mae' for the timm layout, 'beit' for the beit layout. */
  init?: InitScheme;
  seed?: number;
  rng?: RandomSource;
}

export function blockSpec(config: VitConfig): BlockSpec {
  return { dim: config.embedDim, heads: config.numHeads, mlpRatio: config.mlpRatio, layout: config.layout, lnEps: config.lnEps };
}

/** A freshly initialised encoder (see README: MAE's and BEiT's init rules). */
export function createVit(config: VitConfig, options: CreateVitOptions = {}): VitModel {
  validateVitConfig(config);
  const scheme = options.init ?? (config.layout === 'timm' ? 'mae' : 'beit');
  const rng = options.rng ?? seededRandom(options.seed ?? 0);
  const { embedDim: d, patchSize: p, numHeads: heads } = config;
  const n = numPatches(config);
  const params: ParamMap = new Map();
  initToken(params, 'cls_token', d, scheme, rng);
  if (config.maskToken) initToken(params, 'mask_token', d, scheme, rng);
  if (config.layout === 'timm') {
    if (config.posEmbed === 'sincos') addParam(params, 'pos_embed', [1, n + 1, d], sincosPosEmbed2d(d, gridSize(config), true), false);
    else addParam(params, 'pos_embed', [1, n + 1, d], fillNormal(new Float32Array((n + 1) * d), rng, 0.02));
  }
  // The patch embedding is initialised as a Linear on the flattened [D, 3·p·p] view (MAE's xavier on proj.weight.view).
  const fanIn = 3 * p * p;
  addParam(params, 'patch_embed.proj.weight', [d, 3, p, p], fillUniform(new Float32Array(d * fanIn), rng, Math.sqrt(6 / (fanIn + d))));
  addParam(params, 'patch_embed.proj.bias', [d], new Float32Array(d));
  if (config.layout === 'beit') addParam(params, 'rel_pos_bias.relative_position_bias_table', [relPosTableRows(config), heads], new Float32Array(relPosTableRows(config) * heads));
  const spec = blockSpec(config);
  for (let i = 0; i < config.depth; i++) {
    initBlock(params, `blocks.${i}.`, spec, {
      scheme,
      rng,
      layerScaleInit: config.layerScaleInit,
      rescaleLayerId: scheme === 'beit' ? i + 1 : undefined,
    });
  }
  initLayerNorm(params, config.pooling === 'cls' ? 'norm' : 'fc_norm', d);
  return { config, params };
}

export function disposeVit(model: VitModel): void {
  disposeParams(model.params);
}

/** The variables an optimiser updates (excludes fixed tables such as MAE's sin-cos pos_embed). */
export function trainableParams(model: VitModel): Map<string, tf.Variable> {
  return new Map([...model.params].filter(([, v]) => v.trainable));
}

export function vitParamCount(model: VitModel, onlyTrainable = false): number {
  return countParams(model.params, onlyTrainable);
}

export interface EncodeOptions {
  /** Enables stochastic depth (drop path); off by default (evaluation). */
  training?: boolean;
  /** Source of the drop-path draws when training (default: Math.random). */
  rng?: RandomSource;
  /**
   * MAE: per sample, the indices (0..N-1, row-major) of the visible patches, all of the same length, in
   * the order the tokens should come out. Only those patches are embedded and encoded.
   */
  visibleIdx?: ArrayLike<number>[];
  /** SimMIM / USFM: [B, N] with 1 where a patch is masked; its embedding is replaced by `mask_token`. */
  mask?: tf.Tensor2D;
}

function dropPathScales(config: VitConfig, batch: number, rng: RandomSource): (Float32Array | undefined)[] {
  return Array.from({ length: config.depth }, (_, i) => {
    const rate = config.depth > 1 ? (config.dropPathRate * i) / (config.depth - 1) : config.dropPathRate;
    if (rate <= 0) return undefined;
    return Float32Array.from({ length: batch }, () => (rng.uniform() >= rate ? 1 / (1 - rate) : 0));
  });
}

/** Patch-embedding weight as a [D, C·p·p] Linear; grey input folds the 3 input channels into one by summing. */
function patchEmbedWeight(model: VitModel, channels: number): tf.Tensor2D {
  const { embedDim: d, patchSize: p } = model.config;
  const w = getParam(model.params, 'patch_embed.proj.weight');
  const inChannels = w.shape[1]!;
  if (channels === inChannels) return tf.reshape(w, [d, inChannels * p * p]);
  if (channels === 1) return tf.sum(tf.reshape(w, [d, inChannels, p * p]), 1);
  throw new Error(`images have ${channels} channels; the patch embedding takes ${inChannels} (or 1, folded)`);
}

/**
 * Encoder forward. images [B, 1|3, H, W] (NCHW, H = W = imgSize) -> tokens [B, 1+T, D] with CLS first:
 * timm layout / cls pooling: after the final `norm`; mean pooling: the last block's output (no norm), as the
 * BEiT / USFM encoders. T = N, or the visible count with `visibleIdx`.
 */
export function encode(model: VitModel, images: tf.Tensor4D, options: EncodeOptions = {}): tf.Tensor3D {
  const { config, params } = model;
  const { embedDim: d, patchSize: p, imgSize } = config;
  const [batch, channels, h, w] = images.shape;
  if (h !== imgSize || w !== imgSize) throw new Error(`encode: images are ${h}x${w}, the model takes ${imgSize}x${imgSize}`);
  const n = numPatches(config);
  const visible = options.visibleIdx;
  if (visible && visible.length !== batch) throw new Error(`encode: visibleIdx has ${visible.length} rows for a batch of ${batch}`);
  if (visible && options.mask) throw new Error('encode: use either visibleIdx (MAE) or mask (SimMIM), not both');
  const kept = visible ? (visible[0]?.length ?? 0) : n;
  if (visible?.some((v) => v.length !== kept)) throw new Error('encode: every sample needs the same number of visible patches');
  const tokens = 1 + kept;

  // Patch embedding as one 2-D product; MAE selects the raw visible patches first (data: no gradient needed).
  let patches = tf.reshape(patchify(images, p, 'chw'), [batch * n, channels * p * p]) as tf.Tensor2D;
  let flatIdx: Int32Array | null = null;
  if (visible) {
    flatIdx = new Int32Array(batch * kept);
    visible.forEach((row, b) => {
      for (let i = 0; i < kept; i++) {
        const k = row[i]!;
        if (!(k >= 0 && k < n)) throw new Error(`encode: visible patch index ${k} outside [0, ${n})`);
        flatIdx![b * kept + i] = b * n + k;
      }
    });
    patches = tf.gather(patches, tf.tensor1d(flatIdx, 'int32'));
  }
  let emb = linear(patches, patchEmbedWeight(model, channels), getParam(params, 'patch_embed.proj.bias') as tf.Tensor1D, { constantInput: true });

  if (options.mask) {
    if (options.mask.shape[0] !== batch || options.mask.shape[1] !== n) throw new Error(`encode: mask must be [${batch}, ${n}]`);
    const m = tf.reshape(options.mask, [batch * n, 1]);
    const token = tf.reshape(getParam(params, 'mask_token'), [1, d]);
    emb = tf.add(tf.mul(emb, tf.sub(1, m)), tf.mul(m, token));
  }

  let cls = tf.reshape(getParam(params, 'cls_token'), [1, d]) as tf.Tensor2D;
  if (config.layout === 'timm') {
    const pos = getParam(params, 'pos_embed');
    const posPatches = tf.reshape(tf.slice(pos, [0, 1, 0], [1, n, d]), [n, d]) as tf.Tensor2D;
    cls = tf.add(cls, tf.reshape(tf.slice(pos, [0, 0, 0], [1, 1, d]), [1, d]));
    if (flatIdx) {
      const patchIdx = flatIdx.map((v) => v % n);
      // Learned positions need a gradient (one-hot product); fixed ones are plain data.
      const rows = pos.trainable ? selectRowsOneHot(posPatches, patchIdx) : tf.gather(posPatches, tf.tensor1d(patchIdx, 'int32'));
      emb = tf.add(emb, rows);
    } else {
      emb = tf.reshape(tf.add(tf.reshape(emb, [batch, n, d]), posPatches), [batch * n, d]);
    }
  }
  // CLS row broadcast over the batch by an addition (tile's gradient is slow; broadcasting sums instead).
  const clsRows = tf.add(tf.zeros([batch, 1, d]), cls);
  let x = tf.reshape(tf.concat([clsRows, tf.reshape(emb, [batch, kept, d])], 1), [batch * tokens, d]) as tf.Tensor2D;

  let attnBias: tf.Tensor3D | tf.Tensor4D | undefined;
  if (config.layout === 'beit') {
    const table = getParam(params, 'rel_pos_bias.relative_position_bias_table') as tf.Tensor2D;
    const heads = table.shape[1];
    if (visible) {
      const idx = relativePositionIndexSubset(gridSize(config), visible);
      const rows = tf.reshape(gatherRows(table, idx), [batch, tokens * tokens, heads]);
      attnBias = tf.reshape(tf.transpose(rows, [0, 2, 1]), [batch, heads, tokens, tokens]) as tf.Tensor4D;
    } else {
      const idx = relativePositionIndex(gridSize(config));
      attnBias = tf.reshape(tf.transpose(gatherRows(table, idx)), [heads, tokens, tokens]) as tf.Tensor3D;
    }
  }

  const drop = options.training && config.dropPathRate > 0 ? dropPathScales(config, batch, options.rng ?? { uniform: Math.random, normal: () => 0 }) : [];
  const spec = blockSpec(config);
  for (let i = 0; i < config.depth; i++) {
    x = blockForward(params, `blocks.${i}.`, spec, x, { batch, tokens, attnBias, dropPathScale: drop[i] });
  }
  if (config.pooling === 'cls') x = layerNorm(x, getParam(params, 'norm.weight') as tf.Tensor1D, getParam(params, 'norm.bias') as tf.Tensor1D, config.lnEps);
  return tf.reshape(x, [batch, tokens, d]);
}

/** Image-level feature [B, D]: the CLS token (cls pooling) or fc_norm(mean of the patch tokens) (mean pooling). */
export function pool(model: VitModel, tokens: tf.Tensor3D): tf.Tensor2D {
  const [batch, t, d] = tokens.shape;
  if (model.config.pooling === 'cls') return tf.reshape(tf.slice(tokens, [0, 0, 0], [batch, 1, d]), [batch, d]);
  const mean = tf.mean(tf.slice(tokens, [0, 1, 0], [batch, t - 1, d]), 1) as tf.Tensor2D;
  return layerNorm(mean, getParam(model.params, 'fc_norm.weight') as tf.Tensor1D, getParam(model.params, 'fc_norm.bias') as tf.Tensor1D, model.config.lnEps);
}
