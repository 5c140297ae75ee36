/**
 * Photometric conversions to the two output forms: MONOCHROME2 (higher = brighter) and interleaved RGB.
 * YCbCr formulas are those of PS3.3 C.7.6.3.1.2 (ITU-R BT.601 full range for YBR_FULL*, studio range for
 * YBR_PARTIAL*), clamped to the byte range.
 */

type Samples = Uint8Array | Uint16Array | Int16Array;

function clampByte(value: number): number {
  return value <= 0 ? 0 : value >= 255 ? 255 : Math.round(value);
}

/** Planar (RRR...GGG...BBB...) to interleaved (RGBRGB...). */
export function planarToInterleaved<T extends Samples>(samples: T, pixels: number, components: number): T {
  const out = new (samples.constructor as new (length: number) => T)(pixels * components);
  for (let c = 0; c < components; c++) {
    const plane = c * pixels;
    for (let p = 0; p < pixels; p++) out[p * components + c] = samples[plane + p];
  }
  return out;
}

// YCbCr to RGB follows dcmtk's arithmetic (centre = half the maximum, truncation toward zero) so that
// uncompressed YBR images decode to exactly dcmtk's RGB: per-term lookup tables for YBR_FULL, one
// floating-point expression for YBR_FULL_422. The two differ by at most one grey level.
const YBR_MAX = 255;
const RCR = new Int16Array(256);
const GCB = new Int16Array(256);
const GCR = new Int16Array(256);
const BCB = new Int16Array(256);
for (let l = 0; l < 256; l++) {
  RCR[l] = Math.trunc(1.402 * l - 0.701 * YBR_MAX);
  GCB[l] = Math.trunc(0.3441 * l);
  GCR[l] = Math.trunc(0.7141 * l - 0.5291 * YBR_MAX);
  BCB[l] = Math.trunc(1.772 * l - 0.8859 * YBR_MAX);
}

function clampInt(v: number): number {
  return v < 0 ? 0 : v > YBR_MAX ? YBR_MAX : v;
}

/** YBR_FULL interleaved 8-bit to RGB, in place. */
export function ybrFullToRgb(data: Uint8Array): Uint8Array {
  for (let i = 0; i + 2 < data.length; i += 3) {
    const y = data[i];
    const cb = data[i + 1];
    const cr = data[i + 2];
    data[i] = clampInt(y + RCR[cr]);
    data[i + 1] = clampInt(y - GCB[cb] - GCR[cr]);
    data[i + 2] = clampInt(y + BCB[cb]);
  }
  return data;
}

/** YBR_FULL_422 (after expand422) interleaved 8-bit to RGB, in place. */
export function ybrFull422ToRgb(data: Uint8Array): Uint8Array {
  const toByte = (v: number): number => (v < 0 ? 0 : v > YBR_MAX ? YBR_MAX : Math.trunc(v));
  for (let i = 0; i + 2 < data.length; i += 3) {
    const y = data[i];
    const cb = data[i + 1];
    const cr = data[i + 2];
    data[i] = toByte(y + 1.402 * cr - 0.701 * YBR_MAX);
    data[i + 1] = toByte(y - 0.3441 * cb - 0.7141 * cr + 0.5291 * YBR_MAX);
    data[i + 2] = toByte(y + 1.772 * cb - 0.8859 * YBR_MAX);
  }
  return data;
}

/** YBR_PARTIAL (studio range: Y 16..235, Cb/Cr 16..240) interleaved 8-bit to RGB, in place. */
export function ybrPartialToRgb(data: Uint8Array): Uint8Array {
  for (let i = 0; i + 2 < data.length; i += 3) {
    const y = 1.164384 * (data[i] - 16);
    const cb = data[i + 1] - 128;
    const cr = data[i + 2] - 128;
    data[i] = clampByte(y + 1.596027 * cr);
    data[i + 1] = clampByte(y - 0.391762 * cb - 0.812968 * cr);
    data[i + 2] = clampByte(y + 2.017232 * cb);
  }
  return data;
}

/**
 * Native YBR_FULL_422 / YBR_PARTIAL_422: each pair of pixels is stored as Y1 Y2 Cb Cr. Expand to
 * interleaved Y Cb Cr per pixel (chroma shared by the pair), ready for the YCbCr-to-RGB step.
 */
export function expand422(data: Uint8Array, columns: number, rows: number): Uint8Array {
  const out = new Uint8Array(columns * rows * 3);
  const pairsPerRow = Math.ceil(columns / 2);
  for (let row = 0; row < rows; row++) {
    for (let pair = 0; pair < pairsPerRow; pair++) {
      const src = (row * pairsPerRow + pair) * 4;
      const x = pair * 2;
      const cb = data[src + 2];
      const cr = data[src + 3];
      const left = (row * columns + x) * 3;
      out[left] = data[src];
      out[left + 1] = cb;
      out[left + 2] = cr;
      if (x + 1 < columns) {
        out[left + 3] = data[src + 1];
        out[left + 4] = cb;
        out[left + 5] = cr;
      }
    }
  }
  return out;
}

/**
 * Keep only the stored bits (0028,0101) at the high bit (0028,0102): old writers put overlay bits above
 * them. Signed values are sign-extended from Bits Stored.
 */
export function normaliseStoredBits(
  samples: Uint16Array | Int16Array | Uint8Array,
  bitsAllocated: number,
  bitsStored: number,
  highBit: number,
  signed: boolean,
): Uint16Array | Int16Array | Uint8Array {
  const shift = Math.max(0, highBit + 1 - bitsStored);
  if (bitsStored >= bitsAllocated && shift === 0) return samples;
  const mask = (1 << bitsStored) - 1;
  const signBit = 1 << (bitsStored - 1);
  if (!signed) {
    for (let i = 0; i < samples.length; i++) samples[i] = ((samples[i] & 0xffff) >> shift) & mask;
    return samples;
  }
  for (let i = 0; i < samples.length; i++) {
    const v = ((samples[i] & 0xffff) >> shift) & mask;
    samples[i] = v & signBit ? v - (mask + 1) : v;
  }
  return samples;
}

/**
 * MONOCHROME1 (minimum = white) to MONOCHROME2 semantics: v' = max + min - v over the stored-bits range,
 * i.e. (2^BitsStored - 1) - v for unsigned data and -1 - v for signed data. Applied to the stored values,
 * before any rescale; in place.
 */
export function invertMonochrome1(samples: Samples, bitsStored: number, signed: boolean): Samples {
  if (signed) {
    for (let i = 0; i < samples.length; i++) samples[i] = -1 - samples[i];
    return samples;
  }
  const max = 2 ** bitsStored - 1;
  for (let i = 0; i < samples.length; i++) samples[i] = max - samples[i];
  return samples;
}

/** A palette colour lookup table expanded to 8-bit output values. */
export interface PaletteLut {
  firstMapped: number;
  red: Uint8Array;
  green: Uint8Array;
  blue: Uint8Array;
}

/** Index through the palette; indices outside the table take its first or last entry (PS3.3 C.7.6.3.1.5). */
export function applyPalette(indices: Samples, lut: PaletteLut): Uint8Array {
  const out = new Uint8Array(indices.length * 3);
  const last = lut.red.length - 1;
  for (let i = 0; i < indices.length; i++) {
    let k = indices[i] - lut.firstMapped;
    if (k < 0) k = 0;
    else if (k > last) k = last;
    out[i * 3] = lut.red[k];
    out[i * 3 + 1] = lut.green[k];
    out[i * 3 + 2] = lut.blue[k];
  }
  return out;
}

/**
 * Expand a segmented palette LUT (PS3.3 C.7.9.2): discrete segments (opcode 0) list values, linear
 * segments (1) ramp from the previous value, indirect segments (2) replay earlier segments by word offset.
 */
export function expandSegmentedLut(words: ArrayLike<number>, maxEntries = 65536): number[] {
  const out: number[] = [];
  const segmentStarts: number[] = [];
  const expandFrom = (start: number, end: number, depth: number): void => {
    let pos = start;
    while (pos + 1 < end && out.length <= maxEntries) {
      segmentStarts.push(pos);
      const opcode = words[pos];
      const length = words[pos + 1];
      if (opcode === 0) {
        for (let i = 0; i < length && pos + 2 + i < end; i++) out.push(words[pos + 2 + i]);
        pos += 2 + length;
      } else if (opcode === 1) {
        const y0 = out.length > 0 ? out[out.length - 1] : 0;
        const y1 = words[pos + 2];
        for (let i = 1; i <= length; i++) out.push(Math.round(y0 + ((y1 - y0) * i) / length));
        pos += 3;
      } else if (opcode === 2) {
        if (depth > 2) throw new Error('segmented LUT: indirect segments nest too deep');
        const offset = words[pos + 2] | (words[pos + 3] << 16);
        let cursor = offset;
        for (let s = 0; s < length && cursor + 1 < start + words.length; s++) {
          const segLength = words[cursor] === 0 ? 2 + words[cursor + 1] : words[cursor] === 1 ? 3 : 4;
          expandFrom(cursor, cursor + segLength, depth + 1);
          cursor += segLength;
        }
        pos += 4;
      } else {
        throw new Error(`segmented LUT: unknown segment opcode ${opcode}`);
      }
    }
  };
  expandFrom(0, words.length, 0);
  return out.slice(0, maxEntries);
}
