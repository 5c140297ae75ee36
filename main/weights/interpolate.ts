/**
 * Position-table arithmetic for imports at another grid size: PyTorch's bicubic resize (as timm resizes
 * learned tables) and recognising MAE's fixed sin-cos table (main/ml/vit computes it).
 */
import { sincosPosEmbed2d } from '../ml/vit/pos-embed';

export { sincosPosEmbed2d };

const CUBIC_A = -0.75; // PyTorch's (and OpenCV's) bicubic kernel coefficient

function cubicWeights(t: number): [number, number, number, number] {
  const c1 = (x: number): number => ((CUBIC_A + 2) * x - (CUBIC_A + 3)) * x * x + 1;
  const c2 = (x: number): number => ((CUBIC_A * x - 5 * CUBIC_A) * x + 8 * CUBIC_A) * x - 4 * CUBIC_A;
  return [c2(t + 1), c1(t), c1(1 - t), c2(2 - t)];
}

/**
 * `torch.nn.functional.interpolate(x, size=(outH, outW), mode='bicubic', align_corners=False)` without
 * antialiasing, for `channels` planes of `inH x inW` stored channel-last (`[inH, inW, channels]`, the
 * layout of a position-embedding table reshaped to its grid). Out-of-range taps are clamped to the border.
 */
export function bicubicResizeChannelsLast(
  src: Float32Array,
  inH: number,
  inW: number,
  channels: number,
  outH: number,
  outW: number,
): Float32Array {
  if (src.length !== inH * inW * channels) throw new Error(`bicubic resize: ${src.length} values do not form ${inH}x${inW}x${channels}`);
  const out = new Float32Array(outH * outW * channels);
  const scaleH = inH / outH;
  const scaleW = inW / outW;
  const clampH = (i: number): number => Math.min(Math.max(i, 0), inH - 1);
  const clampW = (i: number): number => Math.min(Math.max(i, 0), inW - 1);
  const rowTaps = new Float64Array(4);
  for (let oy = 0; oy < outH; oy++) {
    const realY = (oy + 0.5) * scaleH - 0.5;
    const y0 = Math.floor(realY);
    const wy = cubicWeights(realY - y0);
    for (let ox = 0; ox < outW; ox++) {
      const realX = (ox + 0.5) * scaleW - 0.5;
      const x0 = Math.floor(realX);
      const wx = cubicWeights(realX - x0);
      const xs = [clampW(x0 - 1), clampW(x0), clampW(x0 + 1), clampW(x0 + 2)];
      const base = (oy * outW + ox) * channels;
      for (let c = 0; c < channels; c++) {
        // Along x for each of the four rows, then along y, as PyTorch's kernel does.
        for (let j = 0; j < 4; j++) {
          const row = clampH(y0 - 1 + j) * inW;
          let acc = 0;
          for (let i = 0; i < 4; i++) acc += src[(row + xs[i]!) * channels + c]! * wx[i]!;
          rowTaps[j] = acc;
        }
        out[base + c] = rowTaps[0]! * wy[0] + rowTaps[1]! * wy[1] + rowTaps[2]! * wy[2] + rowTaps[3]! * wy[3];
      }
    }
  }
  return out;
}

/**
 * timm's `resample_abs_pos_embed` (bicubic, align_corners=False, antialias off) for a `(1, prefix + g*g, D)`
 * table: the prefix (CLS) rows are kept, the grid part is resized to `newH x newW`.
 */
export function resampleAbsPosEmbed(
  posEmbed: Float32Array,
  embedDim: number,
  oldGrid: [number, number],
  newGrid: [number, number],
  prefixTokens = 1,
): Float32Array {
  const [oh, ow] = oldGrid;
  const [nh, nw] = newGrid;
  if (posEmbed.length !== (prefixTokens + oh * ow) * embedDim) throw new Error('pos_embed size does not match its grid');
  if (oh === nh && ow === nw) return posEmbed.slice();
  const prefix = posEmbed.subarray(0, prefixTokens * embedDim);
  const grid = bicubicResizeChannelsLast(posEmbed.subarray(prefixTokens * embedDim), oh, ow, embedDim, nh, nw);
  const out = new Float32Array((prefixTokens + nh * nw) * embedDim);
  out.set(prefix, 0);
  out.set(grid, prefix.length);
  return out;
}

/**
 * Resize a BEiT relative-position-bias table `((2g-1)^2 + extra, heads)` to a new grid: the `(2g-1)^2`
 * part is resized bicubically as a `(2g-1) x (2g-1)` image per head (timm's `resize_rel_pos_bias_table`),
 * the trailing `extra` rows (CLS-to-token, token-to-CLS, CLS-to-CLS) are kept unchanged.
 */
export function resizeRelPosBiasTable(table: Float32Array, heads: number, oldGrid: number, newGrid: number, extraRows = 3): Float32Array {
  const oldSide = 2 * oldGrid - 1;
  const newSide = 2 * newGrid - 1;
  if (table.length !== (oldSide * oldSide + extraRows) * heads) throw new Error('relative position table size does not match its grid');
  if (oldGrid === newGrid) return table.slice();
  const body = bicubicResizeChannelsLast(table.subarray(0, oldSide * oldSide * heads), oldSide, oldSide, heads, newSide, newSide);
  const out = new Float32Array((newSide * newSide + extraRows) * heads);
  out.set(body, 0);
  out.set(table.subarray(oldSide * oldSide * heads), body.length);
  return out;
}

/** True when `posEmbed` is MAE's fixed sin-cos table for this grid (so it is regenerated, not resized). */
export function isSincosPosEmbed(posEmbed: Float32Array, embedDim: number, grid: number, tolerance = 1e-4): boolean {
  if (embedDim % 4 !== 0 || posEmbed.length !== (1 + grid * grid) * embedDim) return false;
  const expected = sincosPosEmbed2d(embedDim, grid, true);
  for (let i = 0; i < expected.length; i++) if (Math.abs(expected[i]! - posEmbed[i]!) > tolerance) return false;
  return true;
}
