/**
 * Near-duplicate frames of a cine loop: consecutive frames whose coarse (32x32) luminance differs by less
 * than a grey level on average show the same thing (frozen probe, paused loop) and add nothing to training.
 */
import { toLuma8, type Raster } from '../imaging/raster';

export const FINGERPRINT_SIDE = 32;
/** Mean absolute difference (grey levels of 255) under which two frames count as near-duplicates. */
export const NEAR_DUPLICATE_MAD = 0.5;

/** 32x32 area-averaged luminance, whatever the aspect ratio, so the fingerprints of one loop align. */
export function fingerprint(r: Raster): Uint8Array {
  return resampleTo(toLuma8(r), r.width, r.height, FINGERPRINT_SIDE);
}

function resampleTo(data: Uint8Array, width: number, height: number, side: number): Uint8Array {
  const out = new Uint8Array(side * side);
  const sums = new Float64Array(side * side);
  const counts = new Float64Array(side * side);
  for (let y = 0; y < height; y++) {
    const oy = Math.min(side - 1, Math.floor((y * side) / height));
    for (let x = 0; x < width; x++) {
      const o = oy * side + Math.min(side - 1, Math.floor((x * side) / width));
      sums[o]! += data[y * width + x]!;
      counts[o]!++;
    }
  }
  for (let i = 0; i < out.length; i++) out[i] = counts[i]! > 0 ? Math.round(sums[i]! / counts[i]!) : 0;
  return out;
}

export function fingerprintDistance(a: Uint8Array, b: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i]! - b[i]!);
  return sum / a.length;
}

export function isNearDuplicate(a: Uint8Array, b: Uint8Array): boolean {
  return fingerprintDistance(a, b) < NEAR_DUPLICATE_MAD;
}
