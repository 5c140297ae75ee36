/** Position encodings: MAE's fixed 2-D sin-cos table and BEiT's relative-position index. */

/**
 * MAE's get_2d_sincos_pos_embed(dim, g, cls_token): [(cls ? 1 : 0) + g², dim], row-major patches, first
 * half of the channels encodes the column (MAE's meshgrid(w, h) order), the second half the row; each half
 * is [sin(pos·ω), cos(pos·ω)] with ω_k = 1 / 10000^(k / (dim/4)). The CLS row is zero.
 */
export function sincosPosEmbed2d(dim: number, grid: number, clsToken: boolean): Float32Array {
  if (dim % 4 !== 0) throw new Error(`sin-cos position embedding needs dim divisible by 4, got ${dim}`);
  const quarter = dim / 4;
  const offset = clsToken ? 1 : 0;
  const out = new Float32Array((offset + grid * grid) * dim);
  const omega = Array.from({ length: quarter }, (_, k) => 1 / 10000 ** (k / quarter));
  for (let r = 0; r < grid; r++) {
    for (let c = 0; c < grid; c++) {
      const base = (offset + r * grid + c) * dim;
      for (let k = 0; k < quarter; k++) {
        out[base + k] = Math.sin(c * omega[k]!);
        out[base + quarter + k] = Math.cos(c * omega[k]!);
        out[base + 2 * quarter + k] = Math.sin(r * omega[k]!);
        out[base + 3 * quarter + k] = Math.cos(r * omega[k]!);
      }
    }
  }
  return out;
}

/**
 * BEiT relative_position_index for a g x g grid plus CLS at row/column 0: [(g²+1)²] row-major. Patch pairs
 * index (Δrow + g-1)·(2g-1) + (Δcol + g-1); CLS→token R-3, token→CLS R-2, CLS→CLS R-1 with R = (2g-1)²+3.
 */
export function relativePositionIndex(grid: number): Int32Array {
  const n = grid * grid + 1;
  const side = 2 * grid - 1;
  const rows = side * side + 3;
  const idx = new Int32Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let v: number;
      if (i === 0 && j === 0) v = rows - 1;
      else if (j === 0) v = rows - 2;
      else if (i === 0) v = rows - 3;
      else {
        const ri = Math.floor((i - 1) / grid);
        const ci = (i - 1) % grid;
        const rj = Math.floor((j - 1) / grid);
        const cj = (j - 1) % grid;
        v = (ri - rj + grid - 1) * side + (ci - cj + grid - 1);
      }
      idx[i * n + j] = v;
    }
  }
  return idx;
}

/**
 * The index restricted to CLS plus the given patches (indices into the g² patches), per sample:
 * [samples · T · T] with T = 1 + visible count, as the full index's rows/columns (0 = CLS, k+1 = patch k).
 */
export function relativePositionIndexSubset(grid: number, visible: ArrayLike<number>[]): Int32Array {
  const full = relativePositionIndex(grid);
  const n = grid * grid + 1;
  const t = 1 + (visible[0]?.length ?? 0);
  const out = new Int32Array(visible.length * t * t);
  visible.forEach((patches, b) => {
    const pos = [0, ...Array.from(patches, (p) => p + 1)];
    for (let i = 0; i < t; i++) for (let j = 0; j < t; j++) out[(b * t + i) * t + j] = full[pos[i]! * n + pos[j]!]!;
  });
  return out;
}
