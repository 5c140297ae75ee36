/**
 * Parameter maps: an ordered Map<PyTorch name, tf.Variable> whose shapes are PyTorch's, Linear weights
 * included ([out, in], used as stored: products take a transpose flag). Checkpoints therefore interchange
 * with timm / MAE / BEiT / USFM state dicts name for name and element for element.
 */
import * as tf from '@tensorflow/tfjs-core';
import { fillNormal, fillTruncNormal, fillUniform, type RandomSource } from './random';

export type ParamMap = Map<string, tf.Variable>;
/** 'mae': xavier-uniform Linear weights, zero biases (MAE / timm). 'beit': trunc-normal(0.02) Linear weights (BEiT / USFM). */
export type InitScheme = 'mae' | 'beit';

export function addParam(params: ParamMap, name: string, shape: number[], values: Float32Array, trainable = true): tf.Variable {
  if (params.has(name)) throw new Error(`parameter ${name} already exists`);
  const size = shape.reduce((a, b) => a * b, 1);
  if (values.length !== size) throw new Error(`parameter ${name}: ${values.length} values for shape [${shape}]`);
  const v = tf.tidy(() => tf.variable(tf.tensor(values, shape, 'float32'), trainable));
  params.set(name, v);
  return v;
}

export function constantValues(size: number, value: number): Float32Array {
  return new Float32Array(size).fill(value);
}

/** Weight [out, in] (+ bias [out]) of an nn.Linear named `prefix`.weight / `prefix`.bias. */
export function initLinear(params: ParamMap, prefix: string, outDim: number, inDim: number, scheme: InitScheme, rng: RandomSource, options: { bias?: boolean; gain?: number } = {}): void {
  const w = new Float32Array(outDim * inDim);
  if (scheme === 'mae') fillUniform(w, rng, Math.sqrt(6 / (inDim + outDim)));
  else fillTruncNormal(w, rng, 0.02);
  if (options.gain !== undefined) for (let i = 0; i < w.length; i++) w[i]! *= options.gain;
  addParam(params, `${prefix}.weight`, [outDim, inDim], w);
  if (options.bias ?? true) addParam(params, `${prefix}.bias`, [outDim], new Float32Array(outDim));
}

/** nn.LayerNorm: weight 1, bias 0. */
export function initLayerNorm(params: ParamMap, prefix: string, dim: number): void {
  addParam(params, `${prefix}.weight`, [dim], constantValues(dim, 1));
  addParam(params, `${prefix}.bias`, [dim], new Float32Array(dim));
}

/** A token such as cls_token / mask_token: [1, 1, dim], N(0, 0.02) (trunc-normal for BEiT). */
export function initToken(params: ParamMap, name: string, dim: number, scheme: InitScheme, rng: RandomSource): void {
  const v = new Float32Array(dim);
  if (scheme === 'beit') fillTruncNormal(v, rng, 0.02);
  else fillNormal(v, rng, 0.02);
  addParam(params, name, [1, 1, dim], v);
}

export function getParam(params: ParamMap, name: string): tf.Variable {
  const v = params.get(name);
  if (!v) throw new Error(`missing parameter ${name}`);
  return v;
}

export function disposeParams(params: ParamMap): void {
  for (const v of params.values()) v.dispose();
  params.clear();
}

export function countParams(params: ParamMap, onlyTrainable = false): number {
  let n = 0;
  for (const v of params.values()) if (!onlyTrainable || v.trainable) n += v.size;
  return n;
}
