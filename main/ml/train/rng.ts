/**
 * Seeded randomness. Every random draw of a run comes from a stream named by (seed, purpose, counter), so
 * the draws of step s are the same whether the run went straight through or was resumed at s: the
 * checkpoint only needs the seed and the step, and prefetching ahead cannot shift anything.
 */

/** splitmix32: scrambles a 32-bit value; used to seed streams from (seed, purpose, counter). */
function splitmix32(x: number): number {
  x = (x + 0x9e3779b9) | 0;
  let z = x;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

export type RngState = [number, number, number, number];

/** sfc32 (Chris Doty-Humphrey's small fast counting generator): 128-bit state, passes PractRand. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spareNormal: number | null = null;

  constructor(state: RngState) {
    [this.a, this.b, this.c, this.d] = state.map((v) => v >>> 0) as RngState;
    if ((this.a | this.b | this.c | this.d) === 0) this.d = 1;
  }

  /** The stream for one purpose and counter (step, epoch, item...) of a seeded run. */
  static stream(seed: number, purpose: string, ...counters: number[]): Rng {
    let h = splitmix32(seed >>> 0) ^ hashString(purpose);
    const words: number[] = [];
    for (const c of counters) {
      h = splitmix32(h ^ (c >>> 0));
      h = splitmix32(h ^ Math.floor(c / 2 ** 32));
    }
    for (let i = 0; i < 4; i++) {
      h = splitmix32(h + i);
      words.push(h);
    }
    const rng = new Rng(words as RngState);
    for (let i = 0; i < 12; i++) rng.nextUint32(); // mix the seeding in
    return rng;
  }

  state(): RngState {
    return [this.a, this.b, this.c, this.d];
  }

  nextUint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1) with 32 random bits. */
  uniform(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform in [lo, hi). */
  range(lo: number, hi: number): number {
    return lo + (hi - lo) * this.uniform();
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }

  /** Standard normal (Box-Muller, the second value kept for the next call). */
  normal(): number {
    if (this.spareNormal !== null) {
      const v = this.spareNormal;
      this.spareNormal = null;
      return v;
    }
    let u = 0;
    while (u === 0) u = this.uniform();
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spareNormal = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** N(0, std²) redrawn outside [lo, hi] (absolute bounds), as timm's trunc_normal_(std, a=-2, b=2). */
  truncatedNormal(std: number, lo = -2, hi = 2): number {
    for (;;) {
      const v = this.normal() * std;
      if (v >= lo && v <= hi) return v;
    }
  }

  /** Fisher-Yates shuffle in place. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [items[i], items[j]] = [items[j]!, items[i]!];
    }
    return items;
  }

  /** A 31-bit seed for tfjs ops that take one (dropout, random masks drawn on the device). */
  seed31(): number {
    return this.nextUint32() >>> 1;
  }
}
