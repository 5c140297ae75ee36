/**
 * Pre-norm transformer block in both naming schemes; also used by the MAE decoder (`decoder_blocks.{i}.`).
 * Tokens travel as a 2-D [B·T, D] matrix so every Linear is one 2-D product.
 */
import * as tf from '@tensorflow/tfjs-core';
import { attention, gelu, layerNorm, linear } from '../ops';
import { addParam, constantValues, getParam, initLayerNorm, initLinear, type InitScheme, type ParamMap } from './params';
import type { RandomSource } from './random';

export interface BlockSpec {
  dim: number;
  heads: number;
  mlpRatio: number;
  /** 'timm': qkv.bias; 'beit': q_bias/v_bias (k bias fixed 0) and layer scale gamma_1/gamma_2. */
  layout: 'timm' | 'beit';
  lnEps: number;
}

export interface BlockInitOptions {
  scheme: InitScheme;
  rng: RandomSource;
  /** beit layout: initial gamma value (0.1). */
  layerScaleInit?: number;
  /** BEiT's fix_init_weight: attn.proj and mlp.fc2 weights divided by sqrt(2·layerId), layerId from 1. */
  rescaleLayerId?: number;
}

/** Adds the parameters of one block named `${prefix}norm1.weight` ... (prefix ends with a dot). */
export function initBlock(params: ParamMap, prefix: string, spec: BlockSpec, options: BlockInitOptions): void {
  const { dim, mlpRatio, layout } = spec;
  const { scheme, rng } = options;
  const hidden = Math.round(dim * mlpRatio);
  const gain = options.rescaleLayerId ? 1 / Math.sqrt(2 * options.rescaleLayerId) : undefined;
  if (layout === 'beit') {
    const g = options.layerScaleInit ?? 0.1;
    addParam(params, `${prefix}gamma_1`, [dim], constantValues(dim, g));
    addParam(params, `${prefix}gamma_2`, [dim], constantValues(dim, g));
  }
  initLayerNorm(params, `${prefix}norm1`, dim);
  if (layout === 'beit') {
    addParam(params, `${prefix}attn.q_bias`, [dim], new Float32Array(dim));
    addParam(params, `${prefix}attn.v_bias`, [dim], new Float32Array(dim));
  }
  initLinear(params, `${prefix}attn.qkv`, 3 * dim, dim, scheme, rng, { bias: layout === 'timm' });
  initLinear(params, `${prefix}attn.proj`, dim, dim, scheme, rng, { gain });
  initLayerNorm(params, `${prefix}norm2`, dim);
  initLinear(params, `${prefix}mlp.fc1`, hidden, dim, scheme, rng);
  initLinear(params, `${prefix}mlp.fc2`, dim, hidden, scheme, rng, { gain });
}

export interface BlockRun {
  batch: number;
  tokens: number;
  /** Attention bias [H, T, T] (shared) or [B, H, T, T] (per sample), e.g. BEiT's relative position bias. */
  attnBias?: tf.Tensor3D | tf.Tensor4D;
  /** Per-sample residual-branch scale for stochastic depth ([B] values 0 or 1/keep); omitted = no drop. */
  dropPathScale?: Float32Array;
}

function dropPath(branch: tf.Tensor2D, run: BlockRun, dim: number): tf.Tensor2D {
  if (!run.dropPathScale) return branch;
  const scale = tf.tensor3d(run.dropPathScale, [run.batch, 1, 1]);
  return tf.reshape(tf.mul(tf.reshape(branch, [run.batch, run.tokens, dim]), scale), [run.batch * run.tokens, dim]);
}

/** x [B·T, D] -> [B·T, D]: x + γ1·attn(norm1 x); then x + γ2·mlp(norm2 x). */
export function blockForward(params: ParamMap, prefix: string, spec: BlockSpec, x: tf.Tensor2D, run: BlockRun): tf.Tensor2D {
  const p = (name: string) => getParam(params, prefix + name);
  const { dim, heads, layout, lnEps } = spec;
  let h = layerNorm(x, p('norm1.weight') as tf.Tensor1D, p('norm1.bias') as tf.Tensor1D, lnEps);
  const qkvBias =
    layout === 'timm' ? (p('attn.qkv.bias') as tf.Tensor1D) : (tf.concat([p('attn.q_bias'), tf.zeros([dim]), p('attn.v_bias')]) as tf.Tensor1D);
  h = linear(h, p('attn.qkv.weight') as tf.Tensor2D, qkvBias);
  h = attention(h, { batch: run.batch, tokens: run.tokens, heads }, run.attnBias);
  h = linear(h, p('attn.proj.weight') as tf.Tensor2D, p('attn.proj.bias') as tf.Tensor1D);
  if (layout === 'beit') h = tf.mul(h, p('gamma_1'));
  x = tf.add(x, dropPath(h, run, dim));
  h = layerNorm(x, p('norm2.weight') as tf.Tensor1D, p('norm2.bias') as tf.Tensor1D, lnEps);
  h = gelu(linear(h, p('mlp.fc1.weight') as tf.Tensor2D, p('mlp.fc1.bias') as tf.Tensor1D));
  h = linear(h, p('mlp.fc2.weight') as tf.Tensor2D, p('mlp.fc2.bias') as tf.Tensor1D);
  if (layout === 'beit') h = tf.mul(h, p('gamma_2'));
  return tf.add(x, dropPath(h, run, dim));
}
