/**
 * Pixel rasters shared by the import, the cache, cone detection and exports. The type is the DICOM
 * library's, so decoded DICOM frames and decoded PNG/JPEG images flow through the same code.
 */
import type { Raster } from '../dicom/types';

export type { Raster };

export type RasterData = Raster['data'];

/** Samples per raster (width * height * channels). */
export function sampleCount(r: Pick<Raster, 'width' | 'height' | 'channels'>): number {
  return r.width * r.height * r.channels;
}

/** Allocate the typed array a raster of this kind holds. */
export function allocData(bitDepth: 8 | 16, signed: boolean, length: number): RasterData {
  if (bitDepth === 8) return new Uint8Array(length);
  return signed ? new Int16Array(length) : new Uint16Array(length);
}

/** Check that a raster's shape and array agree (a decoder bug must not corrupt the cache). */
export function assertValidRaster(r: Raster): void {
  if (!Number.isInteger(r.width) || !Number.isInteger(r.height) || r.width < 1 || r.height < 1) {
    throw new Error(`invalid raster size ${r.width}x${r.height}`);
  }
  if (r.channels !== 1 && r.channels !== 3) throw new Error(`invalid raster channels ${String(r.channels)}`);
  if (r.bitDepth !== 8 && r.bitDepth !== 16) throw new Error(`invalid raster bit depth ${String(r.bitDepth)}`);
  if (r.data.length !== sampleCount(r)) throw new Error(`raster data has ${r.data.length} samples, expected ${sampleCount(r)}`);
  const bytesPerSample = r.bitDepth === 8 ? 1 : 2;
  if (r.data.BYTES_PER_ELEMENT !== bytesPerSample) throw new Error('raster data type does not match its bit depth');
}

/** Raw little-endian bytes of the samples (a view when possible). */
export function rasterBytes(r: Raster): Uint8Array {
  return new Uint8Array(r.data.buffer, r.data.byteOffset, r.data.byteLength);
}

/**
 * An RGB raster whose three channels are equal everywhere carries grey data (BUSI stores grey scans as
 * RGB PNGs): keep one channel, which is lossless and a third of the size.
 */
export function collapseGreyRgb(r: Raster): Raster {
  if (r.channels !== 3) return r;
  const d = r.data;
  for (let i = 0; i < d.length; i += 3) {
    if (d[i] !== d[i + 1] || d[i] !== d[i + 2]) return r;
  }
  const out = allocData(r.bitDepth, r.signed, r.width * r.height);
  for (let p = 0, i = 0; p < out.length; p++, i += 3) out[p] = d[i]!;
  return { ...r, channels: 1, data: out };
}

/**
 * 8-bit luminance for analysis and thumbnails. 16-bit data is windowed to its own 0.5..99.5 percentile
 * range (the stored values may use only a part of 16 bits); RGB uses Rec. 601 weights.
 */
export function toLuma8(r: Raster): Uint8Array {
  const n = r.width * r.height;
  const out = new Uint8Array(n);
  if (r.bitDepth === 8) {
    const d = r.data as Uint8Array;
    if (r.channels === 1) {
      out.set(d);
    } else {
      for (let p = 0, i = 0; p < n; p++, i += 3) out[p] = (d[i]! * 77 + d[i + 1]! * 150 + d[i + 2]! * 29 + 128) >> 8;
    }
    return out;
  }
  const grey = new Float32Array(n);
  const d = r.data;
  if (r.channels === 1) for (let p = 0; p < n; p++) grey[p] = d[p]!;
  else for (let p = 0, i = 0; p < n; p++, i += 3) grey[p] = 0.299 * d[i]! + 0.587 * d[i + 1]! + 0.114 * d[i + 2]!;
  const [lo, hi] = percentileRange(grey, 0.005, 0.995);
  const scale = hi > lo ? 255 / (hi - lo) : 0;
  for (let p = 0; p < n; p++) {
    const v = (grey[p]! - lo) * scale;
    out[p] = v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v);
  }
  return out;
}

/** Approximate [lowQ, highQ] quantiles from an evenly spaced sample of at most 65 536 values. */
export function percentileRange(values: ArrayLike<number>, lowQ: number, highQ: number): [number, number] {
  const step = Math.max(1, Math.floor(values.length / 65_536));
  const sample = new Float64Array(Math.ceil(values.length / step));
  for (let i = 0, j = 0; i < values.length; i += step, j++) sample[j] = values[i]!;
  sample.sort();
  if (sample.length === 0) return [0, 0];
  const at = (q: number): number => sample[Math.min(sample.length - 1, Math.max(0, Math.round(q * (sample.length - 1))))]!;
  return [at(lowQ), at(highQ)];
}

/** Area-average downscale of an interleaved 8-bit image so that its longer side is at most `maxSide`. */
export function resizeArea8(data: Uint8Array, width: number, height: number, channels: number, maxSide: number): { data: Uint8Array; width: number; height: number } {
  const scale = Math.min(1, maxSide / Math.max(width, height));
  const ow = Math.max(1, Math.round(width * scale));
  const oh = Math.max(1, Math.round(height * scale));
  if (ow === width && oh === height) return { data: data.slice(), width, height };
  const out = new Uint8Array(ow * oh * channels);
  const sums = new Float64Array(ow * channels);
  const counts = new Float64Array(ow);
  const xMap = new Int32Array(width);
  for (let x = 0; x < width; x++) xMap[x] = Math.min(ow - 1, Math.floor((x * ow) / width));
  let oy = 0;
  for (let y = 0; y < height; y++) {
    const row = y * width * channels;
    for (let x = 0; x < width; x++) {
      const ox = xMap[x]!;
      counts[ox]!++;
      for (let c = 0; c < channels; c++) sums[ox * channels + c]! += data[row + x * channels + c]!;
    }
    const nextOy = y + 1 < height ? Math.min(oh - 1, Math.floor(((y + 1) * oh) / height)) : oh;
    if (nextOy !== oy) {
      for (let ox = 0; ox < ow; ox++) {
        for (let c = 0; c < channels; c++) out[(oy * ow + ox) * channels + c] = Math.round(sums[ox * channels + c]! / Math.max(1, counts[ox]!));
      }
      sums.fill(0);
      counts.fill(0);
      oy = nextOy;
    }
  }
  return { data: out, width: ow, height: oh };
}

/** 8-bit display version of a raster (grey or RGB), windowing 16-bit data. */
export function toDisplay8(r: Raster): { data: Uint8Array; channels: 1 | 3 } {
  if (r.bitDepth === 8) return { data: r.data as Uint8Array, channels: r.channels };
  if (r.channels === 1) return { data: toLuma8(r), channels: 1 };
  const [lo, hi] = percentileRange(r.data, 0.005, 0.995);
  const scale = hi > lo ? 255 / (hi - lo) : 0;
  const out = new Uint8Array(r.data.length);
  for (let i = 0; i < out.length; i++) {
    const v = (r.data[i]! - lo) * scale;
    out[i] = v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v);
  }
  return { data: out, channels: 3 };
}
