/**
 * The ultrasound field of view ("cone"): a sector for curvilinear and phased probes, a rectangle for
 * linear probes. Geometry is in pixel coordinates of the image, pixel (x, y) having its centre at (x, y).
 *
 * Sector angles are in radians measured from straight down (+y) towards +x: a pixel is inside when its
 * distance to the apex lies in [innerRadius, outerRadius] and atan2(x - apexX, y - apexY) lies in
 * [startAngle, endAngle]. The apex may lie outside the image (above it, typically).
 */
import { z } from 'zod';
import type { Raster } from './raster';

export const SectorGeometry = z.object({
  shape: z.literal('sector'),
  apexX: z.number().finite(),
  apexY: z.number().finite(),
  innerRadius: z.number().finite().min(0),
  outerRadius: z.number().finite().positive(),
  startAngle: z.number().finite().min(-Math.PI).max(Math.PI),
  endAngle: z.number().finite().min(-Math.PI).max(Math.PI),
});
export const RectangleGeometry = z.object({
  shape: z.literal('rectangle'),
  /** Inclusive pixel bounds. */
  x0: z.number().finite(),
  y0: z.number().finite(),
  x1: z.number().finite(),
  y1: z.number().finite(),
});
export const ConeGeometry = z
  .discriminatedUnion('shape', [SectorGeometry, RectangleGeometry])
  .refine((g) => (g.shape === 'sector' ? g.outerRadius > g.innerRadius && g.endAngle > g.startAngle : g.x1 >= g.x0 && g.y1 >= g.y0), {
    message: 'empty cone geometry (outer radius must exceed inner, end angle exceed start, x1 >= x0, y1 >= y0)',
  });
export type SectorGeometry = z.infer<typeof SectorGeometry>;
export type RectangleGeometry = z.infer<typeof RectangleGeometry>;
export type ConeGeometry = z.infer<typeof ConeGeometry>;

/** 0/1 mask of the cone, row-major, width * height bytes. */
export function rasterizeCone(g: ConeGeometry, width: number, height: number): Uint8Array {
  const mask = new Uint8Array(width * height);
  if (g.shape === 'rectangle') {
    const x0 = Math.max(0, Math.ceil(g.x0 - 1e-9));
    const x1 = Math.min(width - 1, Math.floor(g.x1 + 1e-9));
    const y0 = Math.max(0, Math.ceil(g.y0 - 1e-9));
    const y1 = Math.min(height - 1, Math.floor(g.y1 + 1e-9));
    for (let y = y0; y <= y1; y++) mask.fill(1, y * width + x0, y * width + x1 + 1);
    return mask;
  }
  const r0 = g.innerRadius * g.innerRadius;
  const r1 = g.outerRadius * g.outerRadius;
  const yStart = Math.max(0, Math.floor(g.apexY - g.outerRadius));
  const yEnd = Math.min(height - 1, Math.ceil(g.apexY + g.outerRadius));
  for (let y = yStart; y <= yEnd; y++) {
    const dy = y - g.apexY;
    for (let x = 0; x < width; x++) {
      const dx = x - g.apexX;
      const d2 = dx * dx + dy * dy;
      if (d2 < r0 || d2 > r1) continue;
      const theta = Math.atan2(dx, dy);
      if (theta >= g.startAngle && theta <= g.endAngle) mask[y * width + x] = 1;
    }
  }
  return mask;
}

/** Intersection over union of two masks of equal size. */
export function maskIoU(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) throw new Error('masks differ in size');
  let inter = 0;
  let union = 0;
  for (let i = 0; i < a.length; i++) {
    const p = a[i] !== 0;
    const q = b[i] !== 0;
    if (p && q) inter++;
    if (p || q) union++;
  }
  return union === 0 ? 1 : inter / union;
}

/** Fraction of `inner`'s pixels that `outer` also covers. */
export function maskCoverage(inner: Uint8Array, outer: Uint8Array): number {
  let n = 0;
  let covered = 0;
  for (let i = 0; i < inner.length; i++) {
    if (!inner[i]) continue;
    n++;
    if (outer[i]) covered++;
  }
  return n === 0 ? 1 : covered / n;
}

export function maskArea(mask: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < mask.length; i++) if (mask[i]) n++;
  return n;
}

/**
 * A copy of `image` with every sample outside the cone set to 0: removes burned-in text, rulers and
 * markers (which often carry patient data) before export or training.
 */
export function blankOutsideCone(image: Raster, cone: Uint8Array): Raster {
  const n = image.width * image.height;
  if (cone.length !== n) throw new Error(`cone mask has ${cone.length} pixels, image ${n}`);
  const data = image.data.slice();
  const c = image.channels;
  for (let p = 0; p < n; p++) {
    if (cone[p]) continue;
    const i = p * c;
    for (let k = 0; k < c; k++) data[i + k] = 0;
  }
  return { ...image, data };
}

/** Bounding box of the cone inside the image (inclusive), or null when it covers nothing. */
export function maskBounds(mask: Uint8Array, width: number, height: number): { x0: number; y0: number; x1: number; y1: number } | null {
  let x0 = width;
  let y0 = height;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (!mask[y * width + x]) continue;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      y1 = y;
    }
  }
  return x1 < 0 ? null : { x0, y0, x1, y1 };
}
