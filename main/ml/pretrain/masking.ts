import type { Rng } from '../train/rng';

/**
 * Patch masks for one batch on a g × g grid of 16-pixel patches (row-major patch index r·g + c).
 * `masked` is 1 where the patch is hidden; `lossWeight` is 1 where the patch counts in the loss (masked and,
 * with cone-aware masking, at least half inside the scan cone).
 */
export interface BatchMask {
  batch: number;
  grid: number;
  masked: Uint8Array;
  lossWeight: Float32Array;
  /** MAE only: the patches the encoder sees, `visibleCount` per sample, ascending. */
  visible: Int32Array | null;
  visibleCount: number;
}

export const PATCH = 16;

/** Patches at least half inside the cone (1) or not (0); every patch when there is no cone mask. */
export function eligiblePatches(cone: Float32Array | null, size: number, patch = PATCH): Uint8Array {
  const g = Math.floor(size / patch);
  const out = new Uint8Array(g * g);
  if (!cone) return out.fill(1);
  for (let r = 0; r < g; r++) {
    for (let c = 0; c < g; c++) {
      let inside = 0;
      for (let y = 0; y < patch; y++) {
        const row = (r * patch + y) * size + c * patch;
        for (let x = 0; x < patch; x++) inside += cone[row + x]!;
      }
      out[r * g + c] = inside * 2 >= patch * patch ? 1 : 0;
    }
  }
  return out;
}

/** MAE's per-sample shuffle: the indices ordered by uniform noise (argsort), drawn from `rng`. */
function noiseOrder(rng: Rng, indices: number[]): number[] {
  const noise = indices.map(() => rng.uniform());
  return indices.map((_, k) => k).sort((a, b) => noise[a]! - noise[b]!).map((k) => indices[k]!);
}

/**
 * MAE random masking (He et al. 2022): per sample, argsort of uniform noise, keep the first (1 − ratio)·N.
 * Cone-aware: the ratio applies to the eligible patches of each sample; to give every sample the same number
 * of encoder tokens, samples with fewer eligible patches take extra visible tokens among their ineligible
 * patches (outside the cone: context only, never in the loss).
 */
export function maeMask(rng: Rng, eligible: readonly Uint8Array[], grid: number, ratio: number): BatchMask {
  const n = grid * grid;
  const batch = eligible.length;
  const keepInCone = eligible.map((e) => {
    const count = e.reduce((a, b) => a + b, 0);
    return Math.max(count > 0 ? 1 : 0, Math.round(count * (1 - ratio)));
  });
  const visibleCount = Math.max(1, ...keepInCone);
  const masked = new Uint8Array(batch * n);
  const lossWeight = new Float32Array(batch * n);
  const visible = new Int32Array(batch * visibleCount);
  for (let b = 0; b < batch; b++) {
    const e = eligible[b]!;
    const inside: number[] = [];
    const outside: number[] = [];
    for (let i = 0; i < n; i++) (e[i] ? inside : outside).push(i);
    const insideOrder = noiseOrder(rng, inside);
    const keep = insideOrder.slice(0, keepInCone[b]!);
    const extra = noiseOrder(rng, outside).slice(0, visibleCount - keep.length);
    const kept = [...keep, ...extra].sort((a, c) => a - c);
    visible.set(kept, b * visibleCount);
    const keptSet = new Set(kept);
    for (let i = 0; i < n; i++) {
      if (keptSet.has(i)) continue;
      masked[b * n + i] = 1;
      if (e[i]) lossWeight[b * n + i] = 1;
    }
  }
  return { batch, grid, masked, lossWeight, visible, visibleCount };
}

/**
 * SimMIM block masking (Xie et al. 2022) as USFM uses it: blocks of `blockPixels` (2 × 2 patches for 32 px),
 * `ratio` of the blocks per sample. When the grid is not a whole number of blocks (112 px: 3.5), the last
 * block row and column are cut at the border. Cone-aware: blocks are drawn in random order among those
 * holding eligible patches, and each adds its eligible patches, until ratio × eligible patches are masked.
 */
export function blockMask(rng: Rng, eligible: readonly Uint8Array[], grid: number, ratio: number, blockPixels = 32, coneAware = true): BatchMask {
  const n = grid * grid;
  const batch = eligible.length;
  const span = Math.max(1, Math.round(blockPixels / PATCH));
  const blocksPerSide = Math.ceil(grid / span);
  const blockPatches: number[][] = [];
  for (let br = 0; br < blocksPerSide; br++) {
    for (let bc = 0; bc < blocksPerSide; bc++) {
      const patches: number[] = [];
      for (let r = br * span; r < Math.min(grid, (br + 1) * span); r++) {
        for (let c = bc * span; c < Math.min(grid, (bc + 1) * span); c++) patches.push(r * grid + c);
      }
      blockPatches.push(patches);
    }
  }
  const masked = new Uint8Array(batch * n);
  const lossWeight = new Float32Array(batch * n);
  for (let b = 0; b < batch; b++) {
    const e = eligible[b]!;
    const order = noiseOrder(rng, blockPatches.map((_, k) => k));
    if (!coneAware) {
      const count = Math.ceil(blockPatches.length * ratio);
      for (const k of order.slice(0, count)) for (const p of blockPatches[k]!) masked[b * n + p] = 1;
    } else {
      const target = Math.round(e.reduce((a, v) => a + v, 0) * ratio);
      let done = 0;
      for (const k of order) {
        if (done >= target) break;
        for (const p of blockPatches[k]!) {
          if (!e[p]) continue;
          masked[b * n + p] = 1;
          done++;
        }
      }
    }
    for (let i = 0; i < n; i++) if (masked[b * n + i] && e[i]) lossWeight[b * n + i] = 1;
  }
  return { batch, grid, masked, lossWeight, visible: null, visibleCount: n };
}

/** Pixel mask (B·S·S, 1 = masked) from a patch mask, for the USFM corruption and pixel losses. */
export function pixelMask(mask: BatchMask, values: Uint8Array | Float32Array = mask.masked, patch = PATCH): Float32Array {
  const { batch, grid } = mask;
  const size = grid * patch;
  const out = new Float32Array(batch * size * size);
  for (let b = 0; b < batch; b++) {
    for (let y = 0; y < size; y++) {
      const rowBase = b * grid * grid + Math.floor(y / patch) * grid;
      const outRow = (b * size + y) * size;
      for (let x = 0; x < size; x++) out[outRow + x] = values[rowBase + Math.floor(x / patch)]!;
    }
  }
  return out;
}
