/** Seeded draws for parameter initialisation and drop path (any generator with uniform()/normal() fits). */

export interface RandomSource {
  /** Uniform in [0, 1). */
  uniform(): number;
  /** Standard normal. */
  normal(): number;
}

/** mulberry32 + Box-Muller: small, fast, deterministic for a seed. */
export function seededRandom(seed: number): RandomSource {
  let state = seed >>> 0;
  let spare: number | null = null;
  const uniform = (): number => {
    state = (state + 0x6d2b79f5) | 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const normal = (): number => {
    if (spare !== null) {
      const v = spare;
      spare = null;
      return v;
    }
    let u = 0;
    while (u === 0) u = uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    const a = 2 * Math.PI * uniform();
    spare = r * Math.sin(a);
    return r * Math.cos(a);
  };
  return { uniform, normal };
}

export function fillNormal(out: Float32Array, rng: RandomSource, std: number): Float32Array {
  for (let i = 0; i < out.length; i++) out[i] = rng.normal() * std;
  return out;
}

/** timm's trunc_normal_(std, a=-2, b=2): redraws outside the absolute bounds. */
export function fillTruncNormal(out: Float32Array, rng: RandomSource, std: number, lo = -2, hi = 2): Float32Array {
  for (let i = 0; i < out.length; i++) {
    let v: number;
    do v = rng.normal() * std;
    while (v < lo || v > hi);
    out[i] = v;
  }
  return out;
}

export function fillUniform(out: Float32Array, rng: RandomSource, bound: number): Float32Array {
  for (let i = 0; i < out.length; i++) out[i] = (2 * rng.uniform() - 1) * bound;
  return out;
}
