/** Shared by the vit-/ops-/losses-/numerics- tests: WASM backend, fixtures, finite-difference checks. */
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../../main/ml/backend';
import { ensureGradients } from '../../../main/ml/train/gradients';
import { readSafetensors, toFloat32 } from '../../../main/weights/safetensors';
import '../../../main/ml/ops';

import { sharedDir } from '../../helpers/temp';

export const FIXTURES = path.join(sharedDir, 'reference', 'fixtures');

export async function setupWasm(): Promise<void> {
  await ensureGradients();
  await selectBackend({ setting: 'wasm' });
}

export function fixtureTensor(file: string, name: string): tf.Tensor {
  const t = readSafetensors(path.join(FIXTURES, file)).tensors.get(name);
  if (!t) throw new Error(`${file} has no ${name}`);
  return tf.tensor(toFloat32(t), t.shape);
}

/** Deterministic pseudo-random values in [-1, 1) (no tfjs RNG, so runs are identical). */
export function pseudoRandom(size: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: size }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32) * 2 - 1;
  });
}

export function randomTensor(shape: number[], seed: number, scale = 1, offset = 0): tf.Tensor {
  return tf.tensor(pseudoRandom(shape.reduce((a, b) => a * b, 1), seed).map((v) => v * scale + offset), shape);
}

export function maxAbsDiff(a: tf.Tensor | ArrayLike<number>, b: tf.Tensor | ArrayLike<number>): number {
  const x = a instanceof tf.Tensor ? a.dataSync() : a;
  const y = b instanceof tf.Tensor ? b.dataSync() : b;
  if (x.length !== y.length) return Infinity;
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i]! - y[i]!));
  return m;
}

/**
 * Directional-derivative check: for a random direction v over the given variables, compares ∇f·v with the
 * central difference (f(θ+εv) - f(θ-εv)) / 2ε. Returns both numbers (float32: expect ~1e-3 relative).
 */
export function directionalCheck(f: () => tf.Scalar, vars: tf.Variable[], eps: number, seed = 7): { analytic: number; numeric: number; relErr: number } {
  const directions = vars.map((v, i) => randomTensor(v.shape, seed + i));
  const { grads } = tf.variableGrads(f, vars);
  let analytic = 0;
  vars.forEach((v, i) => {
    const g = grads[v.name];
    if (g) analytic += tf.sum(tf.mul(g, directions[i]!)).dataSync()[0]!; // null: the loss does not use v
  });
  tf.dispose(Object.values(grads));
  const originals = vars.map((v) => tf.clone(v));
  const evalAt = (sign: number) => {
    vars.forEach((v, i) => v.assign(tf.add(originals[i]!, tf.mul(directions[i]!, sign * eps))));
    return tf.tidy(() => f().dataSync()[0]!);
  };
  const numeric = (evalAt(1) - evalAt(-1)) / (2 * eps);
  vars.forEach((v, i) => v.assign(originals[i]!));
  tf.dispose([...originals, ...directions]);
  return { analytic, numeric, relErr: Math.abs(analytic - numeric) / Math.max(Math.abs(numeric), 1e-8) };
}

function rms(t: tf.Tensor): number {
  return Math.sqrt(tf.mean(tf.square(t)).dataSync()[0]!);
}

/**
 * Finite-difference check along the analytic gradient g of one variable (the direction where f changes
 * most, so float32 roundoff of f matters least). The step is sized so that f moves by about
 * `change`·max(|f|, 1e-3) but no element moves by more than 0.1·max(RMS(v), 0.3); Richardson extrapolation of
 * two central differences removes the O(step²) term.
 * A wrong gradient shows up as analytic ≠ numeric unless it is exactly the right one.
 */
export function gradientDirectionCheck(f: () => tf.Scalar, v: tf.Variable, change = 1e-2): { analytic: number; numeric: number; relErr: number } {
  const { value, grads } = tf.variableGrads(f, [v]);
  const f0 = value.dataSync()[0]!;
  const g = grads[v.name];
  if (!g) throw new Error(`${v.name}: no gradient`);
  const scale = rms(g);
  if (scale === 0) throw new Error(`${v.name}: zero gradient`);
  const direction = tf.div(g, scale);
  const analytic = tf.sum(tf.mul(g, direction)).dataSync()[0]!;
  const eps = Math.min((change * Math.max(Math.abs(f0), 1e-3)) / Math.abs(analytic), 0.1 * Math.max(rms(v), 0.3));
  const original = tf.clone(v);
  const evalAt = (step: number) => {
    v.assign(tf.add(original, tf.mul(direction, step)));
    return tf.tidy(() => f().dataSync()[0]!);
  };
  const central = (h: number) => (evalAt(h) - evalAt(-h)) / (2 * h);
  const numeric = (4 * central(eps / 2) - central(eps)) / 3;
  v.assign(original);
  tf.dispose([value, g, direction, original]);
  return { analytic, numeric, relErr: Math.abs(analytic - numeric) / Math.max(Math.abs(numeric), 1e-8) };
}
