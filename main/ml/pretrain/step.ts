/**
 * One optimizer step: gradients of each micro-batch (tf.variableGrads), accumulated with weights
 * micro/effective so the step equals one over the whole effective batch, global-norm clipping, AdamW.
 * Nothing is applied when the loss or the gradient norm is not finite.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { AdamW } from '../train/adamw';
import { clipByGlobalNorm } from '../train/clip';
import type { PretrainModel } from './model';
import { recipeObjective, type ObjectiveSettings } from './objective';
import type { PreparedBatch } from './batch';

export interface MicroResult {
  loss: number;
  terms: Record<string, number>;
}

export class NonFiniteLossError extends Error {
  constructor(
    readonly what: 'loss' | 'gradient',
    readonly value: number,
  ) {
    super(`the ${what} became ${value} (not finite)`);
    this.name = 'NonFiniteLossError';
  }
}

/** Loss, its terms and the gradients (by parameter name) for one micro-batch. */
export function lossAndGradients(
  model: PretrainModel,
  trainable: ReadonlyMap<string, tf.Variable>,
  batch: PreparedBatch,
  settings: ObjectiveSettings,
): MicroResult & { grads: Map<string, tf.Tensor> } {
  const byVariable = new Map<string, string>();
  for (const [name, v] of trainable) byVariable.set(v.name, name);
  let terms: Record<string, tf.Scalar> = {};
  const { value, grads } = tf.variableGrads(() => {
    const out = recipeObjective(model, batch.inputs, settings);
    terms = Object.fromEntries(Object.entries(out.terms).map(([k, t]) => [k, tf.keep(t)]));
    return out.loss;
  }, [...trainable.values()]);
  const named = new Map<string, tf.Tensor>();
  for (const [varName, g] of Object.entries(grads)) named.set(byVariable.get(varName)!, g);
  const loss = value.dataSync()[0]!;
  const termValues: Record<string, number> = {};
  for (const [k, t] of Object.entries(terms)) termValues[k] = t.dataSync()[0]!;
  // A term may be the loss tensor itself (MAE): dispose each tensor once.
  for (const t of new Set([value, ...Object.values(terms)])) t.dispose();
  return { loss, terms: termValues, grads: named };
}

/** Sums weighted gradients across micro-batches. */
export class GradientAccumulator {
  private sums = new Map<string, tf.Tensor>();

  add(grads: Map<string, tf.Tensor>, weight: number): void {
    for (const [name, g] of grads) {
      const scaled = weight === 1 ? g : tf.mul(g, weight);
      if (scaled !== g) g.dispose();
      const prev = this.sums.get(name);
      if (prev) {
        this.sums.set(name, tf.add(prev, scaled));
        prev.dispose();
        scaled.dispose();
      } else {
        this.sums.set(name, scaled);
      }
    }
  }

  /** The sums (the caller owns and disposes them); the accumulator is empty afterwards. */
  take(): Map<string, tf.Tensor> {
    const out = this.sums;
    this.sums = new Map();
    return out;
  }

  dispose(): void {
    for (const t of this.sums.values()) t.dispose();
    this.sums.clear();
  }
}

export interface StepResult extends MicroResult {
  gradNorm: number;
}

/**
 * A full optimizer step over `micro` batches (produced lazily, so only one micro-batch's activations
 * live at a time). `effectiveBatch` is the sum of their sizes.
 */
export async function optimizerStep(
  model: PretrainModel,
  trainable: ReadonlyMap<string, tf.Variable>,
  optimizer: AdamW,
  micro: AsyncIterable<{ batch: PreparedBatch; size: number; settings: ObjectiveSettings }>,
  effectiveBatch: number,
  lr: number,
  clipNorm: number,
): Promise<StepResult> {
  const acc = new GradientAccumulator();
  let loss = 0;
  const terms: Record<string, number> = {};
  try {
    for await (const { batch, size, settings } of micro) {
      const weight = size / effectiveBatch;
      let out: MicroResult & { grads: Map<string, tf.Tensor> };
      try {
        out = lossAndGradients(model, trainable, batch, settings);
      } finally {
        batch.dispose();
      }
      acc.add(out.grads, weight);
      if (!Number.isFinite(out.loss)) throw new NonFiniteLossError('loss', out.loss);
      loss += out.loss * weight;
      for (const [k, v] of Object.entries(out.terms)) terms[k] = (terms[k] ?? 0) + v * weight;
    }
    const grads = acc.take();
    try {
      const gradNorm = clipByGlobalNorm(grads, clipNorm);
      if (!Number.isFinite(gradNorm)) throw new NonFiniteLossError('gradient', gradNorm);
      optimizer.apply(grads, lr);
      return { loss, terms, gradNorm };
    } finally {
      for (const g of grads.values()) g.dispose();
    }
  } finally {
    acc.dispose();
  }
}
