/**
 * Automatic cone (field of view) detection.
 *
 * 1. Evidence: pixels brighter than the background; for cine loops only those that also change over time
 *    (burned-in text, rulers and markers are static).
 * 2. Texture density: the share of evidence pixels in a window around each pixel. Speckle is dense over
 *    the whole scan area; text, dotted rulers and tick marks are sparse. The densest large connected blob,
 *    holes filled, is the scan area's support.
 * 3. Geometry: robust straight-line fits to the blob's left and right edges. Edges that lean outwards meet
 *    at the apex of a sector (inner/outer radius from the blob's distances to the apex, angles from the
 *    edges); vertical edges make a rectangle.
 * 4. The Sequence of Ultrasound Regions, when present and consistent with the image, bounds the search and
 *    gives the depth of a sector whose deep part is black.
 */
import type { UltrasoundRegion } from '../dicom/types';
import { rasterizeCone, maskIoU, type ConeGeometry, type SectorGeometry } from './cone';
import { boxDensity, erode, dilate, fillHoles, largestComponent } from './morphology';
import { toLuma8, type Raster } from './raster';

export type ConeMethod = 'ultrasound-regions' | 'image' | 'cine-variance' | 'full-image';

export interface ConeDetection {
  geometry: ConeGeometry;
  method: ConeMethod;
  /** Agreement (IoU) of the fitted geometry with the detected support, 0..1. */
  confidence: number;
}

export interface DetectConeOptions {
  regions?: UltrasoundRegion[];
  /** Most frames used for the temporal analysis (evenly sampled). */
  maxFrames?: number;
}

interface Box {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/** Detect the cone of an image or cine loop (all frames share one field of view). */
export function detectCone(frames: readonly Raster[], options: DetectConeOptions = {}): ConeDetection {
  if (frames.length === 0) throw new Error('detectCone needs at least one frame');
  const { width, height } = frames[0]!;
  const sampled = sampleFrames(frames, options.maxFrames ?? 16).filter((f) => f.width === width && f.height === height);
  const lumas = sampled.map(toLuma8);
  const region = usableRegion(options.regions ?? [], width, height);

  const n = width * height;
  const mean = new Float32Array(n);
  for (const l of lumas) for (let p = 0; p < n; p++) mean[p]! += l[p]!;
  for (let p = 0; p < n; p++) mean[p]! /= lumas.length;

  let moving: Uint8Array | null = null;
  if (lumas.length >= 3) {
    const variance = new Float32Array(n);
    for (const l of lumas) for (let p = 0; p < n; p++) variance[p]! += (l[p]! - mean[p]!) ** 2;
    moving = new Uint8Array(n);
    let count = 0;
    for (let p = 0; p < n; p++) {
      if (variance[p]! / lumas.length > 1) {
        moving[p] = 1;
        count++;
      }
    }
    // A loop of identical frames says nothing about motion: fall back to the single-image analysis.
    if (count < 0.02 * n) moving = null;
  }

  const threshold = backgroundThreshold(mean, width, height);
  const evidence = new Uint8Array(n);
  for (let p = 0; p < n; p++) evidence[p] = mean[p]! > threshold && (!moving || moving[p]) ? 1 : 0;
  if (region) clipToBox(evidence, width, height, region);

  const support = scanSupport(evidence, width, height);
  const supportArea = count1(support);
  const method: ConeMethod = region ? 'ultrasound-regions' : moving ? 'cine-variance' : 'image';
  if (supportArea < 0.03 * n) {
    const g: ConeGeometry = region
      ? { shape: 'rectangle', ...region }
      : { shape: 'rectangle', x0: 0, y0: 0, x1: width - 1, y1: height - 1 };
    return { geometry: g, method: region ? 'ultrasound-regions' : 'full-image', confidence: 0 };
  }

  let geometry = fitGeometry(support, width, height);
  if (region) geometry = constrainToRegion(geometry, region, width, height);
  const confidence = maskIoU(rasterizeCone(geometry, width, height), support);
  return { geometry, method, confidence: Math.round(confidence * 1000) / 1000 };
}

function sampleFrames(frames: readonly Raster[], max: number): Raster[] {
  if (frames.length <= max) return [...frames];
  const out: Raster[] = [];
  for (let i = 0; i < max; i++) out.push(frames[Math.floor((i * (frames.length - 1)) / (max - 1))]!);
  return out;
}

function count1(mask: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < mask.length; i++) n += mask[i]!;
  return n;
}

/**
 * Grey level separating the scan from the background: a little above the darkest common level of the
 * image border (black on most systems, dark grey on some), capped so dim tissue still counts.
 */
function backgroundThreshold(luma: Float32Array, width: number, height: number): number {
  const ring = Math.max(1, Math.round(Math.min(width, height) * 0.02));
  const values: number[] = [];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (y >= ring && y < height - ring && x >= ring && x < width - ring) continue;
      values.push(luma[y * width + x]!);
    }
  }
  values.sort((a, b) => a - b);
  const dark = values[Math.floor(values.length * 0.2)] ?? 0;
  return Math.min(40, Math.max(10, dark + 10));
}

/** The scan area's support: dense evidence, thin bridges to overlays cut, largest blob, holes filled. */
function scanSupport(evidence: Uint8Array, width: number, height: number): Uint8Array {
  const side = Math.min(width, height);
  const radius = Math.max(2, Math.round(side / 64));
  const density = boxDensity(evidence, width, height, radius);
  const dense = new Uint8Array(evidence.length);
  for (let p = 0; p < dense.length; p++) dense[p] = density[p]! > 0.4 ? 1 : 0;
  const cut = Math.max(1, Math.round(side / 80));
  const core = largestComponent(erode(dense, width, height, cut), width, height);
  const grown = dilate(core, width, height, cut);
  for (let p = 0; p < grown.length; p++) grown[p] = grown[p]! & dense[p]!;
  return fillHoles(largestComponent(grown, width, height), width, height);
}

interface Line {
  a: number;
  b: number;
  n: number;
}

/** x = a + b*y by least squares with iterative outlier rejection (edges broken by dark tissue or overlays). */
function robustLine(ys: number[], xs: number[]): Line | null {
  let idx = ys.map((_, i) => i);
  let line: Line | null = null;
  for (let iter = 0; iter < 4; iter++) {
    if (idx.length < 6) return line;
    let sy = 0;
    let sx = 0;
    let syy = 0;
    let sxy = 0;
    for (const i of idx) {
      sy += ys[i]!;
      sx += xs[i]!;
      syy += ys[i]! * ys[i]!;
      sxy += ys[i]! * xs[i]!;
    }
    const m = idx.length;
    const den = m * syy - sy * sy;
    if (den === 0) return line;
    const b = (m * sxy - sy * sx) / den;
    const a = (sx - b * sy) / m;
    line = { a, b, n: m };
    const residuals = idx.map((i) => Math.abs(xs[i]! - (a + b * ys[i]!)));
    const sorted = [...residuals].sort((p, q) => p - q);
    const mad = sorted[Math.floor(sorted.length / 2)]!;
    const limit = Math.max(2, 3 * mad);
    const kept = idx.filter((_, k) => residuals[k]! <= limit);
    if (kept.length === idx.length) break;
    idx = kept;
  }
  return line;
}

function fitGeometry(support: Uint8Array, width: number, height: number): ConeGeometry {
  const left = new Int32Array(height).fill(-1);
  const right = new Int32Array(height).fill(-1);
  let ymin = height;
  let ymax = -1;
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) {
      if (!support[row + x]) continue;
      if (left[y] === -1) left[y] = x;
      right[y] = x;
    }
    if (left[y] !== -1) {
      if (y < ymin) ymin = y;
      ymax = y;
    }
  }
  const h = ymax - ymin + 1;
  const widths: number[] = [];
  for (let y = ymin; y <= ymax; y++) if (left[y]! >= 0) widths.push(right[y]! - left[y]! + 1);
  const sortedWidths = [...widths].sort((p, q) => p - q);
  const widest = sortedWidths[Math.floor(sortedWidths.length * 0.95)] ?? width;

  // Edge samples from the rows between the top and the start of the bottom arc, not touching the border.
  const ly: number[] = [];
  const lx: number[] = [];
  const ry: number[] = [];
  const rx: number[] = [];
  for (let y = Math.round(ymin + 0.08 * h); y <= Math.round(ymin + 0.6 * h); y++) {
    if (left[y]! < 0) continue;
    if (right[y]! - left[y]! + 1 < 0.1 * widest) continue;
    if (left[y]! > 0) {
      ly.push(y);
      lx.push(left[y]!);
    }
    if (right[y]! < width - 1) {
      ry.push(y);
      rx.push(right[y]!);
    }
  }
  const lineL = robustLine(ly, lx);
  const lineR = robustLine(ry, rx);
  const slant = 0.06;
  const isSector = lineL && lineR && lineL.b < -slant && lineR.b > slant && lineR.b - lineL.b > 0.15;
  if (isSector) {
    const sector = fitSector(support, width, height, lineL, lineR);
    if (sector) return sector;
  }
  return fitRectangle(left, right, ymin, ymax, width, height, widest);
}

function fitRectangle(left: Int32Array, right: Int32Array, ymin: number, ymax: number, width: number, height: number, widest: number): ConeGeometry {
  const rows: number[] = [];
  for (let y = ymin; y <= ymax; y++) if (left[y]! >= 0 && right[y]! - left[y]! + 1 >= 0.5 * widest) rows.push(y);
  const lefts = rows.map((y) => left[y]!).sort((p, q) => p - q);
  const rights = rows.map((y) => right[y]!).sort((p, q) => p - q);
  const median = (a: number[]): number => a[Math.floor(a.length / 2)] ?? 0;
  let x0 = median(lefts);
  let x1 = median(rights);
  let y0 = rows[0] ?? 0;
  let y1 = rows.at(-1) ?? height - 1;
  // Images already cropped to the scan area (BUSI): edges within a whisker of the border are the border.
  const snapX = Math.max(2, Math.round(width * 0.015));
  const snapY = Math.max(2, Math.round(height * 0.015));
  if (x0 <= snapX) x0 = 0;
  if (y0 <= snapY) y0 = 0;
  if (x1 >= width - 1 - snapX) x1 = width - 1;
  if (y1 >= height - 1 - snapY) y1 = height - 1;
  return { shape: 'rectangle', x0, y0, x1, y1 };
}

function fitSector(support: Uint8Array, width: number, height: number, lineL: Line, lineR: Line): SectorGeometry | null {
  const apexY = (lineL.a - lineR.a) / (lineR.b - lineL.b);
  const apexX = lineL.a + lineL.b * apexY;
  const startAngle = Math.atan(lineL.b);
  const endAngle = Math.atan(lineR.b);
  if (!Number.isFinite(apexX) || !Number.isFinite(apexY)) return null;

  const bins = 64;
  const minD = new Float64Array(bins).fill(Infinity);
  const maxD = new Float64Array(bins).fill(-Infinity);
  const maxAtBorder = new Uint8Array(bins);
  const span = endAngle - startAngle;
  for (let y = 0; y < height; y++) {
    const dy = y - apexY;
    for (let x = 0; x < width; x++) {
      if (!support[y * width + x]) continue;
      const dx = x - apexX;
      const theta = Math.atan2(dx, dy);
      const t = (theta - startAngle) / span;
      if (t < 0 || t >= 1) continue;
      const bin = Math.floor(t * bins);
      const d = Math.sqrt(dx * dx + dy * dy);
      if (d < minD[bin]!) minD[bin] = d;
      if (d > maxD[bin]!) {
        maxD[bin] = d;
        maxAtBorder[bin] = y === height - 1 || x === 0 || x === width - 1 ? 1 : 0;
      }
    }
  }
  // Central bins only: the corners of the fan are where overlays and clipping disturb it most.
  const inner: number[] = [];
  const outer: number[] = [];
  const clippedOuter: number[] = [];
  for (let b = Math.floor(bins * 0.1); b < Math.ceil(bins * 0.9); b++) {
    if (!Number.isFinite(minD[b]!)) continue;
    inner.push(minD[b]!);
    (maxAtBorder[b] ? clippedOuter : outer).push(maxD[b]!);
  }
  if (inner.length < bins * 0.4) return null;
  const median = (a: number[]): number => [...a].sort((p, q) => p - q)[Math.floor(a.length / 2)]!;
  const innerRadius = Math.max(0, median(inner));
  const outerRadius = outer.length >= clippedOuter.length ? median(outer) : Math.max(...clippedOuter, ...outer);
  if (!(outerRadius > innerRadius)) return null;
  return { shape: 'sector', apexX, apexY, innerRadius, outerRadius, startAngle, endAngle };
}

/**
 * Regions of the Sequence of Ultrasound Regions that hold a 2D tissue or colour-flow image and fit the
 * image (files resized after acquisition keep stale regions): their bounding box, or null.
 */
function usableRegion(regions: UltrasoundRegion[], width: number, height: number): Box | null {
  let box: Box | null = null;
  for (const r of regions) {
    if (r.spatialFormat !== 1 || (r.dataType !== 1 && r.dataType !== 2)) continue;
    if (!(r.x1 > r.x0 && r.y1 > r.y0)) continue;
    if (r.x0 < 0 || r.y0 < 0 || r.x1 > width || r.y1 > height) continue;
    const b = { x0: r.x0, y0: r.y0, x1: Math.min(width - 1, r.x1), y1: Math.min(height - 1, r.y1) };
    box = box ? { x0: Math.min(box.x0, b.x0), y0: Math.min(box.y0, b.y0), x1: Math.max(box.x1, b.x1), y1: Math.max(box.y1, b.y1) } : b;
  }
  // A region covering (nearly) the whole image says nothing: keep it only when it excludes something.
  if (box && (box.x1 - box.x0 + 1) * (box.y1 - box.y0 + 1) > 0.98 * width * height) return null;
  return box;
}

function clipToBox(mask: Uint8Array, width: number, height: number, box: Box): void {
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (x < box.x0 || x > box.x1 || y < box.y0 || y > box.y1) mask[y * width + x] = 0;
    }
  }
}

/** Keep the geometry inside the region; a sector whose deep part is black reaches the region's bottom. */
function constrainToRegion(g: ConeGeometry, box: Box, width: number, height: number): ConeGeometry {
  if (g.shape === 'rectangle') {
    return { shape: 'rectangle', x0: Math.max(g.x0, box.x0), y0: Math.max(g.y0, box.y0), x1: Math.min(g.x1, box.x1), y1: Math.min(g.y1, box.y1) };
  }
  const centre = Math.min(Math.max(0, g.startAngle), g.endAngle);
  const reach = (Math.min(box.y1, height - 1) - g.apexY) / Math.cos(centre);
  void width;
  return reach > g.outerRadius ? { ...g, outerRadius: reach } : g;
}
