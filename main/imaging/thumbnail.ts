import { encodePng } from './png';
import { resizeArea8, toDisplay8, type Raster } from './raster';

export const THUMBNAIL_SIZE = 128;

/** A small 8-bit PNG (grey or RGB) for lists and grids; 16-bit data is windowed for display. */
export function makeThumbnail(raster: Raster, maxSide = THUMBNAIL_SIZE): Buffer {
  const display = toDisplay8(raster);
  const small = resizeArea8(display.data, raster.width, raster.height, display.channels, maxSide);
  return encodePng(
    { width: small.width, height: small.height, channels: display.channels, bitDepth: 8, signed: false, data: small.data },
    { deflateLevel: 4 },
  );
}
