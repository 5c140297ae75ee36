import * as tf from '@tensorflow/tfjs-core';
import { decays, type ParamMap } from './params';
import { ADAMW_KERNEL, nativeElementwiseActive, runNative } from '../ops/wasm-native-kernels';

export interface AdamWOptions {
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
}

/** Serialised optimizer moments, by parameter name: `exp_avg` / `exp_avg_sq` as torch.optim.AdamW calls them. */
export interface AdamWState {
  step: number;
  moments: Map<string, { expAvg: Float32Array; expAvgSq: Float32Array }>;
}

/**
 * AdamW (Loshchilov & Hutter) with decoupled weight decay, as torch.optim.AdamW:
 * p ← p·(1 − lr·wd) − lr · m̂ / (√v̂ + eps), with bias-corrected moments. Parameters that `decays` rejects
 * get no decay.
 */
export class AdamW {
  private readonly m = new Map<string, tf.Variable>();
  private readonly v = new Map<string, tf.Variable>();
  private readonly decayed = new Set<string>();
  private stepCount = 0;

  constructor(
    private readonly params: ParamMap,
    readonly options: AdamWOptions,
  ) {
    for (const [name, p] of params) {
      this.m.set(
        name,
        tf.tidy(() => tf.variable(tf.zerosLike(p), false)),
      );
      this.v.set(
        name,
        tf.tidy(() => tf.variable(tf.zerosLike(p), false)),
      );
      if (decays(name, p.shape)) this.decayed.add(name);
    }
  }

  get step(): number {
    return this.stepCount;
  }

  isDecayed(name: string): boolean {
    return this.decayed.has(name);
  }

  /** One update with `grads` (same names as the parameters) at learning rate `lr`. */
  apply(grads: ReadonlyMap<string, tf.Tensor>, lr: number): void {
    this.stepCount += 1;
    const { beta1, beta2, eps, weightDecay } = this.options;
    const bc1 = 1 - beta1 ** this.stepCount;
    const bc2 = 1 - beta2 ** this.stepCount;
    // Folded scalars: p ← p·decay − stepSize · m / (√v / √bc2 + eps).
    const stepSize = lr / bc1;
    if (nativeElementwiseActive()) {
      // One fused kernel per parameter instead of twelve (main/ml/ops/wasm-native-kernels.ts).
      const shared = {
        beta1,
        oneMinusBeta1: 1 - beta1,
        beta2,
        oneMinusBeta2: 1 - beta2,
        stepSize,
        invSqrtBc2: 1 / Math.sqrt(bc2),
        eps,
      };
      tf.tidy(() => {
        for (const [name, p] of this.params) {
          const g = grads.get(name);
          if (!g) continue;
          const decay = this.decayed.has(name) && weightDecay > 0 ? 1 - lr * weightDecay : 1;
          const [pNew, mNew, vNew] = runNative(
            ADAMW_KERNEL,
            { p, m: this.m.get(name)!, v: this.v.get(name)!, g },
            { ...shared, decay },
          );
          this.m.get(name)!.assign(mNew!);
          this.v.get(name)!.assign(vNew!);
          p.assign(pNew!);
        }
      });
      return;
    }
    tf.tidy(() => {
      const b1 = tf.scalar(beta1);
      const oneMinusB1 = tf.scalar(1 - beta1);
      const b2 = tf.scalar(beta2);
      const oneMinusB2 = tf.scalar(1 - beta2);
      const invSqrtBc2 = tf.scalar(1 / Math.sqrt(bc2));
      const epsT = tf.scalar(eps);
      const stepT = tf.scalar(stepSize);
      const decayT = tf.scalar(1 - lr * weightDecay);
      for (const [name, p] of this.params) {
        const g = grads.get(name);
        if (!g) continue;
        const m = this.m.get(name)!;
        const v = this.v.get(name)!;
        const mNew = tf.add(tf.mul(m, b1), tf.mul(g, oneMinusB1));
        const vNew = tf.add(tf.mul(v, b2), tf.mul(tf.square(g), oneMinusB2));
        m.assign(mNew);
        v.assign(vNew);
        const update = tf.div(tf.mul(mNew, stepT), tf.add(tf.mul(tf.sqrt(vNew), invSqrtBc2), epsT));
        const base = this.decayed.has(name) && weightDecay > 0 ? tf.mul(p, decayT) : p;
        p.assign(tf.sub(base, update));
      }
    });
  }

  exportState(): AdamWState {
    const moments = new Map<string, { expAvg: Float32Array; expAvgSq: Float32Array }>();
    for (const name of this.params.keys()) {
      moments.set(name, {
        expAvg: this.m.get(name)!.dataSync() as Float32Array,
        expAvgSq: this.v.get(name)!.dataSync() as Float32Array,
      });
    }
    return { step: this.stepCount, moments };
  }

  /** Restore moments saved by `exportState` (or by PyTorch, same names); parameters missing there restart at 0. */
  importState(state: AdamWState): void {
    this.stepCount = state.step;
    for (const [name, p] of this.params) {
      const saved = state.moments.get(name);
      if (!saved) continue;
      if (saved.expAvg.length !== p.size || saved.expAvgSq.length !== p.size) {
        throw new Error(
          `optimizer state for ${name} has ${saved.expAvg.length} values, the parameter ${p.size}`,
        );
      }
      tf.tidy(() => {
        this.m.get(name)!.assign(tf.tensor(saved.expAvg, p.shape));
        this.v.get(name)!.assign(tf.tensor(saved.expAvgSq, p.shape));
      });
    }
  }

  dispose(): void {
    for (const t of [...this.m.values(), ...this.v.values()]) t.dispose();
    this.m.clear();
    this.v.clear();
  }
}
