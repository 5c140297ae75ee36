/**
 * PyTorch-compatible state dicts. Names and shapes are exactly PyTorch's (Linear weights [out, in], the
 * patch conv [D, 3, p, p]); values are float32 in row-major (C) order, as torch tensors and safetensors
 * store them. No layout conversion is needed in either direction.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ParamMap } from './params';

export interface StateTensor {
  shape: number[];
  data: Float32Array;
}
export type StateDict = Map<string, StateTensor>;

/** Buffers of PyTorch checkpoints that are recomputed here, so loading skips them silently. */
export const DERIVED_BUFFERS: readonly RegExp[] = [/(^|\.)relative_position_index$/];

export interface LoadReport {
  /** Parameters of the model the state dict did not provide (they keep their current values). */
  missing: string[];
  /** Entries of the state dict the model has no parameter for (ignored). */
  unexpected: string[];
}

export class StateDictError extends Error {
  constructor(
    message: string,
    readonly report: LoadReport & { mismatched: string[] },
  ) {
    super(message);
    this.name = 'StateDictError';
  }
}

interface HasParams {
  params: ParamMap;
}

/** A copy of every parameter (fixed tables included, as PyTorch saves them), in state-dict order. */
export function getStateDict(model: HasParams): StateDict {
  const out: StateDict = new Map();
  for (const [name, v] of model.params) out.set(name, { shape: [...v.shape], data: v.dataSync() as Float32Array });
  return out;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/**
 * Assigns the state dict's values to the model's variables by name. Shape mismatches always throw (nothing
 * is assigned then). strict (default true): missing or unexpected names throw too, like torch's
 * load_state_dict(strict=True); otherwise the matching names are loaded and the report lists the rest.
 */
export function loadStateDict(model: HasParams, state: StateDict, options: { strict?: boolean } = {}): LoadReport {
  const strict = options.strict ?? true;
  const missing = [...model.params.keys()].filter((k) => !state.has(k));
  const unexpected = [...state.keys()].filter((k) => !model.params.has(k) && !DERIVED_BUFFERS.some((re) => re.test(k)));
  const mismatched: string[] = [];
  for (const [name, t] of state) {
    const v = model.params.get(name);
    if (!v) continue;
    const size = t.shape.reduce((a, b) => a * b, 1);
    if (!sameShape(v.shape, t.shape) || t.data.length !== size) mismatched.push(`${name}: checkpoint [${t.shape}] vs model [${v.shape}]`);
  }
  const report = { missing, unexpected };
  if (mismatched.length) throw new StateDictError(`state dict shapes do not match the model: ${mismatched.slice(0, 5).join('; ')}${mismatched.length > 5 ? ` (+${mismatched.length - 5} more)` : ''}`, { ...report, mismatched });
  if (strict && (missing.length || unexpected.length)) {
    const parts = [missing.length ? `missing ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ` (+${missing.length - 5})` : ''}` : '', unexpected.length ? `unexpected ${unexpected.slice(0, 5).join(', ')}${unexpected.length > 5 ? ` (+${unexpected.length - 5})` : ''}` : ''];
    throw new StateDictError(`state dict does not match the model: ${parts.filter(Boolean).join('; ')}`, { ...report, mismatched });
  }
  for (const [name, t] of state) {
    const v = model.params.get(name);
    if (v) tf.tidy(() => v.assign(tf.tensor(t.data, t.shape, 'float32')));
  }
  return report;
}
