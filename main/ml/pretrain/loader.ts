/**
 * Deterministic, prefetching batch loader. Sample g of the run (g = step·effective batch + position) is
 * item order_e[g mod n] of epoch e = ⌊g / n⌋, order_e a seeded shuffle; its crop and flip come from the
 * stream (seed, 'augment', g). So the batches of step s are the same whether the run went straight
 * through or was resumed, and prefetching ahead changes nothing. Reads (async file I/O and decoding)
 * of the next micro-batches overlap the current step.
 */
import { augment, type AugmentOptions } from '../train/augment';
import { Rng } from '../train/rng';
import type { HostBatch } from './batch';
import type { PretrainSource } from './data';

export interface LoaderOptions {
  seed: number;
  size: number;
  cropScale: [number, number];
  effectiveBatch: number;
  microBatch: number;
  /** Micro-batches read ahead. */
  depth?: number;
}

export class PrefetchLoader {
  private readonly pending = new Map<string, Promise<HostBatch>>();
  private readonly orders = new Map<number, number[]>();
  readonly microPerStep: number;

  constructor(
    private readonly source: PretrainSource,
    private readonly options: LoaderOptions,
  ) {
    if (source.items.length === 0) throw new Error('the dataset has no items to train on');
    this.microPerStep = Math.ceil(options.effectiveBatch / options.microBatch);
  }

  /** Size of micro-batch `micro` of a step (the last one may be smaller). */
  microSize(micro: number): number {
    const { effectiveBatch, microBatch } = this.options;
    return Math.min(microBatch, effectiveBatch - micro * microBatch);
  }

  private order(epoch: number): number[] {
    let order = this.orders.get(epoch);
    if (!order) {
      order = Rng.stream(this.options.seed, 'order', epoch).shuffle(Array.from({ length: this.source.items.length }, (_, i) => i));
      this.orders.set(epoch, order);
      for (const e of this.orders.keys()) if (e < epoch - 1) this.orders.delete(e);
    }
    return order;
  }

  private async build(step: number, micro: number): Promise<HostBatch> {
    const { effectiveBatch, microBatch, size, seed, cropScale } = this.options;
    const count = this.microSize(micro);
    const first = step * effectiveBatch + micro * microBatch;
    const n = this.source.items.length;
    const aug: AugmentOptions = { size, scale: cropScale };
    const pixels = new Float32Array(count * size * size);
    const cones: (Float32Array | null)[] = [];
    const itemIds: string[] = [];
    const loaded = await Promise.all(
      Array.from({ length: count }, (_, j) => {
        const g = first + j;
        const item = this.source.items[this.order(Math.floor(g / n))[g % n]!]!;
        return this.source.load(item).then((data) => ({ g, item, data }));
      }),
    );
    loaded.forEach(({ g, item, data }, j) => {
      const sample = augment(Rng.stream(seed, 'augment', g), data.image, data.cone, aug);
      pixels.set(sample.pixels, j * size * size);
      cones.push(sample.cone);
      itemIds.push(String(item.itemId));
    });
    return { batch: count, size, pixels, cones, itemIds };
  }

  private key(step: number, micro: number): string {
    return `${step}:${micro}`;
  }

  private ensure(step: number, micro: number): Promise<HostBatch> {
    const key = this.key(step, micro);
    let p = this.pending.get(key);
    if (!p) {
      p = this.build(step, micro);
      // Keep unhandled-rejection noise away until the batch is awaited.
      p.catch(() => undefined);
      this.pending.set(key, p);
    }
    return p;
  }

  /** The micro-batch, and the next `depth` ones started. */
  async get(step: number, micro: number): Promise<HostBatch> {
    const depth = this.options.depth ?? 2;
    const batch = this.ensure(step, micro);
    let s = step;
    let m = micro;
    for (let k = 0; k < depth; k++) {
      m += 1;
      if (m >= this.microPerStep) {
        m = 0;
        s += 1;
      }
      this.ensure(s, m);
    }
    this.pending.delete(this.key(step, micro));
    return batch;
  }

  /** Drop read-ahead work (end of run). */
  close(): void {
    this.pending.clear();
  }
}
