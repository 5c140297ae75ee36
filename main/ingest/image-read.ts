/**
 * Reading PNG and JPEG images into rasters, keeping what is stored: grey stays grey (RGB with equal
 * channels collapses to grey, losslessly), 16-bit stays 16-bit, palette becomes RGB, alpha is dropped
 * (ultrasound exports carry no meaningful transparency).
 */
import { createRequire } from 'node:module';
import { PNG } from 'pngjs';
import { allocData, collapseGreyRgb, type Raster } from '../imaging/raster';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

export type ImageFormat = 'png' | 'jpeg';

/** Format by content (magic bytes), not by file name. */
export function sniffImageFormat(bytes: Uint8Array): ImageFormat | null {
  if (bytes.length >= 8 && Buffer.from(bytes.buffer, bytes.byteOffset, 8).equals(PNG_SIGNATURE)) return 'png';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  return null;
}

interface PngHeader {
  width: number;
  height: number;
  bitDepth: number;
  colorType: number;
}

function readPngHeader(bytes: Uint8Array): PngHeader {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < 33 || buf.toString('latin1', 12, 16) !== 'IHDR') throw new Error('not a PNG file (no IHDR chunk)');
  return { width: buf.readUInt32BE(16), height: buf.readUInt32BE(20), bitDepth: buf[24]!, colorType: buf[25]! };
}

/** Refuse absurd sizes before allocating (a corrupt header must not exhaust memory). */
const MAX_PIXELS = 100_000_000;

export function readPng(bytes: Uint8Array): Raster {
  const header = readPngHeader(bytes);
  if (header.width * header.height > MAX_PIXELS) throw new Error(`image too large (${header.width}x${header.height})`);
  const sixteen = header.bitDepth === 16;
  const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), { skipRescale: sixteen });
  const { width, height } = png;
  const n = width * height;
  // pngjs always returns RGBA (8-bit, or 16-bit samples when skipRescale is set for 16-bit files).
  const rgba = png.data as unknown as Uint8Array | Uint16Array;
  if (rgba.length < n * 4) throw new Error('PNG pixel data is truncated');
  const grey = header.colorType === 0 || header.colorType === 4;
  const bitDepth: 8 | 16 = sixteen ? 16 : 8;
  if (grey) {
    const data = allocData(bitDepth, false, n);
    for (let p = 0; p < n; p++) data[p] = rgba[p * 4]!;
    return { width, height, channels: 1, bitDepth, signed: false, data };
  }
  const data = allocData(bitDepth, false, n * 3);
  for (let p = 0, i = 0; p < n; p++, i += 3) {
    data[i] = rgba[p * 4]!;
    data[i + 1] = rgba[p * 4 + 1]!;
    data[i + 2] = rgba[p * 4 + 2]!;
  }
  return collapseGreyRgb({ width, height, channels: 3, bitDepth, signed: false, data });
}

interface JpegModule {
  JPEGDecoder: new () => {
    getEncodedBuffer(length: number): Uint8Array;
    getDecodedBuffer(): Uint8Array;
    readHeader(): void;
    decode(): void;
    getFrameInfo(): { width: number; height: number; bitsPerSample: number; componentCount: number; isSigned?: boolean };
    delete(): void;
  };
}

let jpegModule: Promise<JpegModule> | null = null;

function loadJpeg(): Promise<JpegModule> {
  if (!jpegModule) {
    const require = createRequire(import.meta.url);
    const factory = require('@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasmjs') as () => Promise<JpegModule>;
    jpegModule = factory();
    jpegModule.catch(() => (jpegModule = null));
  }
  return jpegModule;
}

/** Baseline/progressive 8-bit JPEG through libjpeg-turbo (WASM). */
export async function readJpeg(bytes: Uint8Array): Promise<Raster> {
  const codec = await loadJpeg();
  const decoder = new codec.JPEGDecoder();
  try {
    decoder.getEncodedBuffer(bytes.length).set(bytes);
    decoder.decode();
    const info = decoder.getFrameInfo();
    const { width, height, componentCount } = info;
    if (width * height > MAX_PIXELS) throw new Error(`image too large (${width}x${height})`);
    const decoded = decoder.getDecodedBuffer();
    if (componentCount === 1) {
      return { width, height, channels: 1, bitDepth: 8, signed: false, data: decoded.slice(0, width * height) };
    }
    if (componentCount !== 3) throw new Error(`JPEG with ${componentCount} components is not supported`);
    return collapseGreyRgb({ width, height, channels: 3, bitDepth: 8, signed: false, data: decoded.slice(0, width * height * 3) });
  } catch (err) {
    // The codec throws numbers or strings from WASM; give them words.
    if (err instanceof Error) throw err;
    throw new Error(`JPEG decoder failed (${String(err)})`);
  } finally {
    decoder.delete();
  }
}

export async function readImage(bytes: Uint8Array): Promise<Raster> {
  const format = sniffImageFormat(bytes);
  if (format === 'png') return readPng(bytes);
  if (format === 'jpeg') return readJpeg(bytes);
  throw new Error('not a PNG or JPEG image');
}

/**
 * A segmentation mask image binarised at > 127 (on its grey value; any channel for colour masks),
 * as 0/1 bytes. 1-bit masks (BUSI) come out of pngjs rescaled to 0/255.
 */
export function binariseMask(r: Raster): Uint8Array {
  const n = r.width * r.height;
  const out = new Uint8Array(n);
  const threshold = r.bitDepth === 16 ? 32767 : 127;
  const d = r.data;
  if (r.channels === 1) {
    for (let p = 0; p < n; p++) out[p] = d[p]! > threshold ? 1 : 0;
  } else {
    for (let p = 0, i = 0; p < n; p++, i += 3) out[p] = d[i]! > threshold || d[i + 1]! > threshold || d[i + 2]! > threshold ? 1 : 0;
  }
  return out;
}
