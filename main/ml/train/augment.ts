import type { Rng } from './rng';

/** A grey image, row-major, values in [0, 1]. */
export interface GreyImage {
  width: number;
  height: number;
  data: Float32Array;
}

export interface CropBox {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface AugmentOptions {
  /** Output side in pixels. */
  size: number;
  /** Area fraction range of torchvision's RandomResizedCrop (MAE 0.2-1, USFM 0.67-1). */
  scale: readonly [number, number];
  ratio?: readonly [number, number];
  /** Probability of a horizontal flip (0.5 in every recipe). */
  flipProbability?: number;
}

/** torchvision RandomResizedCrop.get_params: 10 tries at a random area and log-uniform aspect, else a centre crop. */
export function randomResizedCropBox(rng: Rng, width: number, height: number, scale: readonly [number, number], ratio: readonly [number, number] = [3 / 4, 4 / 3]): CropBox {
  const area = width * height;
  const logRatio = [Math.log(ratio[0]), Math.log(ratio[1])] as const;
  for (let attempt = 0; attempt < 10; attempt++) {
    const targetArea = area * rng.range(scale[0], scale[1]);
    const aspect = Math.exp(rng.range(logRatio[0], logRatio[1]));
    const w = Math.round(Math.sqrt(targetArea * aspect));
    const h = Math.round(Math.sqrt(targetArea / aspect));
    if (w > 0 && h > 0 && w <= width && h <= height) {
      return { x: rng.int(width - w + 1), y: rng.int(height - h + 1), w, h };
    }
  }
  const inRatio = width / height;
  let w = width;
  let h = height;
  if (inRatio < ratio[0]) h = Math.round(w / ratio[0]);
  else if (inRatio > ratio[1]) w = Math.round(h * ratio[1]);
  return { x: Math.floor((width - w) / 2), y: Math.floor((height - h) / 2), w, h };
}

/** Per output sample: first source index and the normalised weights of a triangle filter widened when shrinking (PIL's antialiased bilinear). */
interface Taps {
  start: Int32Array;
  count: Int32Array;
  weights: Float32Array;
  maxTaps: number;
}

function resampleTaps(srcOffset: number, srcLength: number, srcLimit: number, outLength: number): Taps {
  const scale = srcLength / outLength;
  const support = Math.max(1, scale);
  const maxTaps = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outLength);
  const count = new Int32Array(outLength);
  const weights = new Float32Array(outLength * maxTaps);
  for (let o = 0; o < outLength; o++) {
    const centre = srcOffset + (o + 0.5) * scale;
    const lo = Math.max(0, Math.floor(centre - support));
    const hi = Math.min(srcLimit, Math.ceil(centre + support));
    let total = 0;
    let n = 0;
    for (let s = lo; s < hi && n < maxTaps; s++, n++) {
      const w = Math.max(0, 1 - Math.abs((s + 0.5 - centre) / support));
      weights[o * maxTaps + n] = w;
      total += w;
    }
    if (total > 0) for (let k = 0; k < n; k++) weights[o * maxTaps + k]! /= total;
    start[o] = lo;
    count[o] = n;
  }
  return { start, count, weights, maxTaps };
}

/**
 * Resample `box` of `src` to size × size (separable, antialiased bilinear), optionally mirrored left-right,
 * into `out` (size²). Also used for cone masks (then thresholded by the caller).
 */
export function resizeCrop(src: GreyImage, box: CropBox, size: number, flip: boolean, out: Float32Array = new Float32Array(size * size)): Float32Array {
  const tx = resampleTaps(box.x, box.w, src.width, size);
  const ty = resampleTaps(box.y, box.h, src.height, size);
  // Horizontal pass over the rows the vertical filter needs.
  const rowLo = ty.start[0]!;
  const rowHi = Math.min(src.height, ty.start[size - 1]! + ty.count[size - 1]!);
  const tmp = new Float32Array((rowHi - rowLo) * size);
  for (let r = rowLo; r < rowHi; r++) {
    const rowOffset = r * src.width;
    for (let o = 0; o < size; o++) {
      const s0 = tx.start[o]!;
      const n = tx.count[o]!;
      let acc = 0;
      for (let k = 0; k < n; k++) acc += src.data[rowOffset + s0 + k]! * tx.weights[o * tx.maxTaps + k]!;
      tmp[(r - rowLo) * size + (flip ? size - 1 - o : o)] = acc;
    }
  }
  for (let o = 0; o < size; o++) {
    const s0 = ty.start[o]! - rowLo;
    const n = ty.count[o]!;
    for (let c = 0; c < size; c++) {
      let acc = 0;
      for (let k = 0; k < n; k++) acc += tmp[(s0 + k) * size + c]! * ty.weights[o * ty.maxTaps + k]!;
      out[o * size + c] = acc;
    }
  }
  return out;
}

export interface AugmentedSample {
  pixels: Float32Array;
  /** 1 inside the scan cone, 0 outside, after the same crop and flip; null when the item has no cone mask. */
  cone: Float32Array | null;
  box: CropBox;
  flipped: boolean;
}

/** Random resized crop + horizontal flip of an image and its cone mask, with the draws taken from `rng`. */
export function augment(rng: Rng, image: GreyImage, cone: GreyImage | null, options: AugmentOptions): AugmentedSample {
  const box = randomResizedCropBox(rng, image.width, image.height, options.scale, options.ratio);
  const flipped = rng.uniform() < (options.flipProbability ?? 0.5);
  const pixels = resizeCrop(image, box, options.size, flipped);
  let coneOut: Float32Array | null = null;
  if (cone) {
    coneOut = resizeCrop(cone, box, options.size, flipped);
    for (let i = 0; i < coneOut.length; i++) coneOut[i] = coneOut[i]! >= 0.5 ? 1 : 0;
  }
  return { pixels, cone: coneOut, box, flipped };
}

/** Evaluation-style view: the whole image resized (no crop, no flip), for previews. */
export function resizeWhole(image: GreyImage, size: number): Float32Array {
  return resizeCrop(image, { x: 0, y: 0, w: image.width, h: image.height }, size, false);
}
