import { PNG } from 'pngjs';
import { assertValidRaster, type Raster } from './raster';

export interface PngEncodeOptions {
  /** zlib level; exports use the default, thumbnails a fast one. */
  deflateLevel?: number;
}

/**
 * Encode a raster as PNG, exactly: grey or RGB, 8 or 16 bit. PNG has no signed samples, so signed 16-bit
 * data is written offset by 32 768 (value + 32768), the usual convention; nothing else is changed.
 */
export function encodePng(raster: Raster, options: PngEncodeOptions = {}): Buffer {
  assertValidRaster(raster);
  const colorType = raster.channels === 1 ? 0 : 2;
  const png = new PNG({
    width: raster.width,
    height: raster.height,
    colorType,
    inputColorType: colorType,
    inputHasAlpha: false,
    bitDepth: raster.bitDepth,
  });
  let bytes: Buffer;
  if (raster.bitDepth === 8) {
    const d = raster.data as Uint8Array;
    bytes = Buffer.from(d.buffer, d.byteOffset, d.byteLength);
  } else {
    // pngjs takes native-order 16-bit samples; copy so the caller's array is never touched.
    const samples = new Uint16Array(raster.data.length);
    if (raster.signed) for (let i = 0; i < samples.length; i++) samples[i] = raster.data[i]! + 32768;
    else samples.set(raster.data);
    bytes = Buffer.from(samples.buffer);
  }
  png.data = bytes;
  return PNG.sync.write(png, {
    colorType,
    inputColorType: colorType,
    inputHasAlpha: false,
    bitDepth: raster.bitDepth,
    deflateLevel: options.deflateLevel ?? 6,
  });
}

/** A binary mask (0 / non-zero) as an 8-bit grey PNG with values 0 and 255. */
export function encodeMaskPng(mask: Uint8Array, width: number, height: number): Buffer {
  const data = new Uint8Array(width * height);
  for (let i = 0; i < data.length; i++) data[i] = mask[i] ? 255 : 0;
  return encodePng({ width, height, channels: 1, bitDepth: 8, signed: false, data }, { deflateLevel: 9 });
}

export function pngDataUrl(png: Uint8Array): string {
  return `data:image/png;base64,${Buffer.from(png).toString('base64')}`;
}
