/**
 * Automatic cone (field of view) detection, on a copy at most 400 px wide (geometry is mapped back).
 *
 * 1. Evidence. A still image: pixels above the background level whose 5x5 neighbourhood varies (speckle;
 *    flat header bars and legends do not). A cine loop: pixels that flicker over the frames (even the
 *    darkest tissue does; burned-in text, rulers and markers are perfectly still).
 * 2. Support: where the evidence is dense (text and dotted markers are sparse), thin bridges cut, holes
 *    filled; the largest blob (a loop: every sizeable blob, since dark bands can split one fan).
 * 3. Geometry. Edge points per row are read from the evidence next to the support (pixel-exact); each side
 *    gets the straight line most of its points agree with (the support's convex hull stands in on a side
 *    too ragged for that). Outward-leaning edges meet at a sector's apex: angles from the lines, inner radius
 *    from the nearest echoes, outer radius deep enough to hold nearly all echoes (a cone must hold the whole
 *    scan area). Otherwise a rectangle of the rows and columns the support mostly covers; an image whose
 *    support reaches three borders was cropped to its scan area and is the whole image (BUSI).
 * 4. The Sequence of Ultrasound Regions, when its 2D region is the fan's bounding box, gives the depth of
 *    a sector whose deep part is black.
 */
import type { UltrasoundRegion } from '../dicom/types';
import { rasterizeCone, maskIoU, type ConeGeometry, type SectorGeometry } from './cone';
import { boxDensity, erode, dilate, fillHoles, largestComponent, sizeableComponents } from './morphology';
import { resizeArea8, toLuma8, type Raster } from './raster';

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

/** Development aid: receives the intermediate masks of each detection. */
let debugHook: ((stages: { evidence: Uint8Array; support: Uint8Array; width: number; height: number }) => void) | null = null;
export function setConeDebugHook(hook: typeof debugHook): void {
  debugHook = hook;
}

/** Longest side of the copy the analysis runs on: detail beyond it changes the fit by well under a pixel. */
const ANALYSIS_SIDE = 400;

/** Detect the cone of an image or cine loop (all frames share one field of view). */
export function detectCone(frames: readonly Raster[], options: DetectConeOptions = {}): ConeDetection {
  if (frames.length === 0) throw new Error('detectCone needs at least one frame');
  const { width: fullWidth, height: fullHeight } = frames[0]!;
  const sampled = sampleFrames(frames, options.maxFrames ?? 16).filter((f) => f.width === fullWidth && f.height === fullHeight);
  const lumas: Uint8Array[] = [];
  let width = fullWidth;
  let height = fullHeight;
  for (const f of sampled) {
    const small = resizeArea8(toLuma8(f), fullWidth, fullHeight, 1, ANALYSIS_SIDE);
    lumas.push(small.data);
    width = small.width;
    height = small.height;
  }
  const kx = fullWidth / width;
  const ky = fullHeight / height;
  const fullRegion = usableRegion(options.regions ?? [], fullWidth, fullHeight);
  const region = fullRegion
    ? {
        x0: (fullRegion.x0 + 0.5) / kx - 0.5,
        y0: (fullRegion.y0 + 0.5) / ky - 0.5,
        x1: (fullRegion.x1 + 0.5) / kx - 0.5,
        y1: (fullRegion.y1 + 0.5) / ky - 0.5,
      }
    : null;
  const result = analyse(lumas, width, height, region);
  return { ...result, geometry: toFullResolution(result.geometry, kx, ky, fullWidth, fullHeight) };
}

/** Map a geometry found on the analysis copy back to the image's pixel grid. */
function toFullResolution(g: ConeGeometry, kx: number, ky: number, fullWidth: number, fullHeight: number): ConeGeometry {
  if (kx === 1 && ky === 1) return g;
  if (g.shape === 'rectangle') {
    return {
      shape: 'rectangle',
      x0: Math.max(0, Math.round(g.x0 * kx)),
      y0: Math.max(0, Math.round(g.y0 * ky)),
      x1: Math.min(fullWidth - 1, Math.round((g.x1 + 1) * kx) - 1),
      y1: Math.min(fullHeight - 1, Math.round((g.y1 + 1) * ky) - 1),
    };
  }
  const k = (kx + ky) / 2;
  return {
    ...g,
    apexX: (g.apexX + 0.5) * kx - 0.5,
    apexY: (g.apexY + 0.5) * ky - 0.5,
    innerRadius: g.innerRadius * k,
    outerRadius: g.outerRadius * k,
  };
}

function analyse(lumas: Uint8Array[], width: number, height: number, region: Box | null): ConeDetection {
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
      // Only overlays are perfectly still: speckle, even dim and far from moving structures, flickers.
      if (variance[p]! / lumas.length > 0.5) {
        moving[p] = 1;
        count++;
      }
    }
    // A loop of identical frames says nothing about motion: fall back to the single-image analysis.
    if (count < 0.02 * n) moving = null;
  }

  const threshold = backgroundThreshold(mean);
  const textured = localTexture(lumas[0]!, width, height);
  const evidence = new Uint8Array(n);
  // In a loop, flicker alone marks the scan area (even its darkest tissue); in a still image, texture above
  // the background level does.
  for (let p = 0; p < n; p++) evidence[p] = moving ? moving[p]! : mean[p]! > threshold && textured[p]! ? 1 : 0;

  const support = scanSupport(evidence, width, height, moving !== null);
  debugHook?.({ evidence, support, width, height });
  const supportArea = count1(support);
  if (supportArea < 0.01 * n) {
    const g: ConeGeometry = region
      ? { shape: 'rectangle', x0: Math.max(0, Math.round(region.x0)), y0: Math.max(0, Math.round(region.y0)), x1: Math.min(width - 1, Math.round(region.x1)), y1: Math.min(height - 1, Math.round(region.y1)) }
      : { shape: 'rectangle', x0: 0, y0: 0, x1: width - 1, y1: height - 1 };
    return { geometry: g, method: region ? 'ultrasound-regions' : 'full-image', confidence: 0 };
  }

  const fitted = fitGeometry(support, evidence, width, height);
  const confidence = maskIoU(rasterizeCone(fitted, width, height), support);
  const extended = region ? extendToRegion(fitted, region, support, width, height) : null;
  return {
    geometry: extended ?? fitted,
    method: extended ? 'ultrasound-regions' : moving ? 'cine-variance' : 'image',
    confidence: Math.round(confidence * 1000) / 1000,
  };
}

function sampleFrames(frames: readonly Raster[], max: number): Raster[] {
  if (frames.length <= max) return [...frames];
  const out: Raster[] = [];
  for (let i = 0; i < max; i++) out.push(frames[Math.floor((i * (frames.length - 1)) / (max - 1))]!);
  return out;
}

/**
 * Pixels whose 5x5 neighbourhood varies: speckle does, flat fills (header bars, legends, grey-scale bars)
 * do not.
 */
function localTexture(luma: Uint8Array, width: number, height: number): Uint8Array {
  // Separable 5x5 min and max: rows first, then columns.
  const rowMin = new Uint8Array(luma.length);
  const rowMax = new Uint8Array(luma.length);
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) {
      let lo = 255;
      let hi = 0;
      const xb = Math.min(width - 1, x + 2);
      for (let xx = Math.max(0, x - 2); xx <= xb; xx++) {
        const v = luma[row + xx]!;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      rowMin[row + x] = lo;
      rowMax[row + x] = hi;
    }
  }
  const out = new Uint8Array(luma.length);
  for (let y = 0; y < height; y++) {
    const ya = Math.max(0, y - 2);
    const yb = Math.min(height - 1, y + 2);
    for (let x = 0; x < width; x++) {
      let lo = 255;
      let hi = 0;
      for (let yy = ya; yy <= yb; yy++) {
        const i = yy * width + x;
        if (rowMin[i]! < lo) lo = rowMin[i]!;
        if (rowMax[i]! > hi) hi = rowMax[i]!;
      }
      out[y * width + x] = hi - lo > 3 ? 1 : 0;
    }
  }
  return out;
}

function count1(mask: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < mask.length; i++) n += mask[i]!;
  return n;
}

/**
 * Grey level separating the scan from the background: a little above the image's darkest common level
 * (black on most systems, dark grey on some). Kept low on purpose: deep, attenuated tissue is dim but
 * textured, and texture (not brightness) is what tells it from the background.
 */
function backgroundThreshold(luma: Float32Array): number {
  const histogram = new Uint32Array(256);
  for (let p = 0; p < luma.length; p++) histogram[Math.min(255, Math.round(luma[p]!))]!++;
  let dark = 0;
  for (let seen = 0; dark < 255; dark++) {
    seen += histogram[dark]!;
    if (seen >= 0.02 * luma.length) break;
  }
  return Math.min(20, Math.max(4, dark + 4));
}

/**
 * The scan area's support: dense evidence, thin bridges to overlays cut, holes filled. A still image keeps
 * its largest blob only (text blocks can be dense too); a loop keeps every sizeable moving blob, since a
 * dark band can split one scan area into pieces (the near field and the deep heart of an echo).
 */
function scanSupport(evidence: Uint8Array, width: number, height: number, severalBlobs: boolean): Uint8Array {
  const side = Math.min(width, height);
  const radius = Math.max(2, Math.round(side / 64));
  const density = boxDensity(evidence, width, height, radius);
  const dense = new Uint8Array(evidence.length);
  for (let p = 0; p < dense.length; p++) dense[p] = density[p]! > 0.4 ? 1 : 0;
  const cut = Math.max(1, Math.round(side / 80));
  const eroded = erode(dense, width, height, cut);
  const core = severalBlobs ? sizeableComponents(eroded, width, height, 0.03) : largestComponent(eroded, width, height);
  const grown = dilate(core, width, height, cut);
  for (let p = 0; p < grown.length; p++) grown[p] = grown[p]! & dense[p]!;
  const kept = severalBlobs ? sizeableComponents(grown, width, height, 0.03) : largestComponent(grown, width, height);
  return fillHoles(kept, width, height);
}

interface Line {
  a: number;
  b: number;
  /** Share of the points within the inlier tolerance of the line. */
  inliers: number;
}

function leastSquares(ys: number[], xs: number[], idx: number[]): { a: number; b: number } | null {
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
  if (m < 2 || den === 0) return null;
  const b = (m * sxy - sy * sx) / den;
  return { a: (sx - b * sy) / m, b };
}

/**
 * x = a + b*y through edge points, robust to stretches where the edge is not the fan's (dark tissue along
 * it, an icon touching it): the line through two well-separated points that most points agree with
 * (within `tolerance` px), refined by least squares on those points. Deterministic.
 */
function robustLine(ys: number[], xs: number[], tolerance = 1.25): Line | null {
  const n = ys.length;
  if (n < 6) return null;
  const minGap = Math.max(3, Math.floor(n / 3));
  const step = Math.max(1, Math.floor(n / 24));
  let best: number[] = [];
  for (let i = 0; i < n; i += step) {
    for (let j = i + minGap; j < n; j += step) {
      if (ys[j] === ys[i]) continue;
      const b = (xs[j]! - xs[i]!) / (ys[j]! - ys[i]!);
      const a = xs[i]! - b * ys[i]!;
      const inliers: number[] = [];
      for (let k = 0; k < n; k++) if (Math.abs(xs[k]! - (a + b * ys[k]!)) <= tolerance) inliers.push(k);
      if (inliers.length > best.length) best = inliers;
    }
  }
  if (best.length < 2) return null;
  let fit = leastSquares(ys, xs, best);
  if (!fit) return null;
  // One refinement: the points near the refined line.
  const near: number[] = [];
  for (let k = 0; k < n; k++) if (Math.abs(xs[k]! - (fit.a + fit.b * ys[k]!)) <= tolerance) near.push(k);
  fit = leastSquares(ys, xs, near.length >= 2 ? near : best) ?? fit;
  return { ...fit, inliers: Math.max(near.length, best.length) / n };
}

function fitGeometry(support: Uint8Array, evidence: Uint8Array, width: number, height: number): ConeGeometry {
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
  // Edges are read from the evidence itself near the support: the support is smoothed (rounded corners,
  // a few pixels in from a crisp fan edge), the evidence is pixel-exact where the fan meets the background.
  const near = dilate(support, width, height, Math.max(2, Math.round(Math.min(width, height) / 40)));
  const edgeLeft = new Int32Array(height).fill(-1);
  const edgeRight = new Int32Array(height).fill(-1);
  const edgeMask = new Uint8Array(support.length);
  for (let p = 0; p < edgeMask.length; p++) edgeMask[p] = evidence[p]! & near[p]!;
  for (let y = ymin; y <= ymax; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) {
      if (!edgeMask[row + x]) continue;
      if (edgeLeft[y] === -1) edgeLeft[y] = x;
      edgeRight[y] = x;
    }
    if (edgeLeft[y] === -1) {
      edgeLeft[y] = left[y]!;
      edgeRight[y] = right[y]!;
    }
  }
  const h = ymax - ymin + 1;
  // Images cropped to a rectangular scan area (BUSI): the support reaches three or four borders and covers
  // most of the image; its dim or dark parts (attenuation, shadows, cysts) are still scan area.
  let xmin = width;
  let xmax = -1;
  let area = 0;
  for (let y = ymin; y <= ymax; y++) {
    if (left[y]! < 0) continue;
    xmin = Math.min(xmin, left[y]!);
    xmax = Math.max(xmax, right[y]!);
  }
  for (let p = 0; p < support.length; p++) area += support[p]!;
  const snapX = Math.max(2, Math.round(width * 0.015));
  const snapY = Math.max(2, Math.round(height * 0.015));
  const touching = Number(xmin <= snapX) + Number(ymin <= snapY) + Number(xmax >= width - 1 - snapX) + Number(ymax >= height - 1 - snapY);
  const cropped = touching >= 3 && area >= 0.5 * width * height;

  const widths: number[] = [];
  for (let y = ymin; y <= ymax; y++) if (left[y]! >= 0) widths.push(right[y]! - left[y]! + 1);
  const sortedWidths = [...widths].sort((p, q) => p - q);
  const widest = sortedWidths[Math.floor(sortedWidths.length * 0.95)] ?? width;
  const rectangle = fitRectangle(support, width, height);

  // Side edges from the convex hull of the support: dark tissue along an edge leaves notches in the
  // support, not in its hull. Rows between the top and the start of the bottom arc, off the border.
  const hull = hullRowExtents(edgeLeft, edgeRight, ymin, ymax);
  // Edge points per row between the top and the start of the bottom arc, off the image border; straight
  // edges come from the rows themselves, or from the support's convex hull on a side where dark tissue
  // makes the rows ragged (fewer than 60% of them on one line).
  const sides = { left: { hull: [] as [number, number][], rows: [] as [number, number][] }, right: { hull: [] as [number, number][], rows: [] as [number, number][] } };
  for (let y = Math.round(ymin + 0.08 * h); y <= Math.round(ymin + 0.6 * h); y++) {
    const pairs: ['hull' | 'rows', number, number][] = [
      ['hull', hull.left[y - ymin]!, hull.right[y - ymin]!],
      ['rows', edgeLeft[y]!, edgeRight[y]!],
    ];
    for (const [source, l, r] of pairs) {
      if (l < 0 || r - l + 1 < 0.1 * widest) continue;
      if (l > 0.5) sides.left[source].push([y, l]);
      if (r < width - 1.5) sides.right[source].push([y, r]);
    }
  }
  const sideLine = (side: { hull: [number, number][]; rows: [number, number][] }): Line | null => {
    const rows = robustLine(side.rows.map((p) => p[0]), side.rows.map((p) => p[1]));
    if (rows && rows.inliers >= 0.6) return rows;
    return robustLine(side.hull.map((p) => p[0]), side.hull.map((p) => p[1])) ?? rows;
  };
  const lineL = sideLine(sides.left);
  const lineR = sideLine(sides.right);
  const slant = 0.06;
  const fit = lineL && lineR && lineL.b < -slant && lineR.b > slant && lineR.b - lineL.b > 0.25 ? fitSector(edgeMask, support, width, height, lineL, lineR) : null;

  // The candidate that agrees best with the support wins; rectangles get a small head start, since a
  // linear probe's rectangle can look slanted when overlays touch its sides. A sector is judged at its
  // typical depth (the support's), not at the generous depth it is given to hold the deepest echoes.
  const candidates: { g: ConeGeometry; judged: ConeGeometry; bonus: number }[] = [{ g: rectangle, judged: rectangle, bonus: 0.02 }];
  if (cropped) {
    const full: ConeGeometry = { shape: 'rectangle', x0: 0, y0: 0, x1: width - 1, y1: height - 1 };
    candidates.push({ g: full, judged: full, bonus: 0.02 });
  }
  if (fit) candidates.push({ g: fit.sector, judged: { ...fit.sector, outerRadius: fit.typicalOuter }, bonus: 0 });
  let best = candidates[0]!.g;
  let bestScore = -Infinity;
  for (const c of candidates) {
    const score = maskIoU(rasterizeCone(c.judged, width, height), support) + c.bonus;
    if (score > bestScore) {
      bestScore = score;
      best = c.g;
    }
  }
  return best;
}

/** Left and right x of the convex hull of the support, per row from ymin to ymax (fractional). */
function hullRowExtents(left: Int32Array, right: Int32Array, ymin: number, ymax: number): { left: Float64Array; right: Float64Array } {
  const points: [number, number][] = [];
  for (let y = ymin; y <= ymax; y++) {
    if (left[y]! < 0) continue;
    points.push([left[y]!, y], [right[y]!, y]);
  }
  const hull = convexHull(points);
  const rows = ymax - ymin + 1;
  const outL = new Float64Array(rows).fill(Infinity);
  const outR = new Float64Array(rows).fill(-Infinity);
  for (let i = 0; i < hull.length; i++) {
    const [x0, y0] = hull[i]!;
    const [x1, y1] = hull[(i + 1) % hull.length]!;
    const ya = Math.ceil(Math.min(y0, y1));
    const yb = Math.floor(Math.max(y0, y1));
    for (let y = ya; y <= yb; y++) {
      const x = y1 === y0 ? Math.min(x0, x1) : x0 + ((x1 - x0) * (y - y0)) / (y1 - y0);
      const xMax = y1 === y0 ? Math.max(x0, x1) : x;
      if (x < outL[y - ymin]!) outL[y - ymin] = x;
      if (xMax > outR[y - ymin]!) outR[y - ymin] = xMax;
    }
  }
  return { left: outL, right: outR };
}

/** Andrew's monotone chain; points as [x, y]. */
function convexHull(points: [number, number][]): [number, number][] {
  const pts = [...points].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  if (pts.length < 3) return pts;
  const cross = (o: [number, number], a: [number, number], b: [number, number]): number => (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
  const lower: [number, number][] = [];
  for (const p of pts) {
    while (lower.length >= 2 && cross(lower[lower.length - 2]!, lower[lower.length - 1]!, p) <= 0) lower.pop();
    lower.push(p);
  }
  const upper: [number, number][] = [];
  for (let i = pts.length - 1; i >= 0; i--) {
    const p = pts[i]!;
    while (upper.length >= 2 && cross(upper[upper.length - 2]!, upper[upper.length - 1]!, p) <= 0) upper.pop();
    upper.push(p);
  }
  lower.pop();
  upper.pop();
  return lower.concat(upper);
}

/**
 * The rectangle of rows and columns mostly covered by the support: overlays stuck to its corners (text
 * blocks, colour bars) cover a few rows or columns only partly.
 */
function fitRectangle(support: Uint8Array, width: number, height: number): ConeGeometry {
  const rowCount = new Int32Array(height);
  const colCount = new Int32Array(width);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (!support[y * width + x]) continue;
      rowCount[y]!++;
      colCount[x]!++;
    }
  }
  const occupied = (counts: Int32Array): [number, number] => {
    const sorted = [...counts].sort((p, q) => p - q);
    const full = sorted[Math.floor(sorted.length * 0.95)] ?? 0;
    let first = -1;
    let last = -1;
    for (let i = 0; i < counts.length; i++) {
      if (counts[i]! < 0.6 * full) continue;
      if (first < 0) first = i;
      last = i;
    }
    return [Math.max(0, first), Math.max(0, last)];
  };
  let [y0, y1] = occupied(rowCount);
  let [x0, x1] = occupied(colCount);
  // Images already cropped to the scan area (BUSI): edges within a whisker of the border are the border.
  const snapX = Math.max(2, Math.round(width * 0.015));
  const snapY = Math.max(2, Math.round(height * 0.015));
  if (x0 <= snapX) x0 = 0;
  if (y0 <= snapY) y0 = 0;
  if (x1 >= width - 1 - snapX) x1 = width - 1;
  if (y1 >= height - 1 - snapY) y1 = height - 1;
  // Touching three borders means the image was cropped to the scan area: a dim band along the fourth
  // border is deep, attenuated tissue, not background.
  const borders = Number(x0 === 0) + Number(y0 === 0) + Number(x1 === width - 1) + Number(y1 === height - 1);
  if (borders >= 3) return { shape: 'rectangle', x0: 0, y0: 0, x1: width - 1, y1: height - 1 };
  return { shape: 'rectangle', x0, y0, x1, y1 };
}

/**
 * Apex and angles from the edge lines; radii from the distances to the apex: the outer one from the fan's
 * own pixels (pixel-exact), the inner one from the support (overlays just above the fan, such as the
 * lower edge of a header bar, are next to the evidence but never part of the support).
 */
function fitSector(pixels: Uint8Array, support: Uint8Array, width: number, height: number, lineL: Line, lineR: Line): { sector: SectorGeometry; typicalOuter: number } | null {
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
      const inFan = pixels[y * width + x]!;
      const inSupport = support[y * width + x]!;
      if (!inFan && !inSupport) continue;
      const dx = x - apexX;
      const theta = Math.atan2(dx, dy);
      const t = (theta - startAngle) / span;
      if (t < 0 || t >= 1) continue;
      const bin = Math.floor(t * bins);
      const d = Math.sqrt(dx * dx + dy * dy);
      if (inSupport && d < minD[bin]!) minD[bin] = d;
      if (inFan && d > maxD[bin]!) {
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
  const quantile = (a: number[], q: number): number => [...a].sort((p, r) => p - r)[Math.min(a.length - 1, Math.floor(a.length * q))]!;
  // The near field is often dark, and so is deep tissue: the fan starts nearer the apex than most of its
  // first echoes and reaches as deep as nearly its deepest ones (the cone must hold the whole scan area).
  const innerRadius = Math.max(0, quantile(inner, 0.1));
  const unclipped = outer.length >= clippedOuter.length;
  const outerRadius = unclipped ? quantile(outer, 0.7) : Math.max(...clippedOuter, ...outer);
  const typicalOuter = unclipped ? quantile(outer, 0.5) : outerRadius;
  if (!(typicalOuter > innerRadius)) return null;
  return { sector: { shape: 'sector', apexX, apexY, innerRadius, outerRadius, startAngle, endAngle }, typicalOuter };
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
    if (r.x0 < 0 || r.y0 < 0 || r.x0 >= width || r.y0 >= height) continue;
    // Mostly outside the image: the image was resized after acquisition and the region is stale. Partly
    // outside (an image cropped after acquisition) is kept, unclipped: its bounds still describe the fan.
    const inside = (Math.min(width - 1, r.x1) - r.x0 + 1) * (Math.min(height - 1, r.y1) - r.y0 + 1);
    if (inside < 0.5 * (r.x1 - r.x0 + 1) * (r.y1 - r.y0 + 1)) continue;
    const b = { x0: r.x0, y0: r.y0, x1: r.x1, y1: r.y1 };
    box = box ? { x0: Math.min(box.x0, b.x0), y0: Math.min(box.y0, b.y0), x1: Math.max(box.x1, b.x1), y1: Math.max(box.y1, b.y1) } : b;
  }
  // A region covering (nearly) the whole image says nothing: keep it only when it excludes something.
  if (box && (Math.min(width - 1, box.x1) - box.x0 + 1) * (Math.min(height - 1, box.y1) - box.y0 + 1) > 0.98 * width * height) return null;
  return box;
}

/**
 * A sector whose deep part is black (no echoes) looks shallower than it is. When the 2D region of the
 * Sequence of Ultrasound Regions is the sector's bounding box (its top meets the fan's top and its sides
 * meet the fan's corners at the region's depth), the fan reaches the region's bottom. Loose regions (the
 * whole display area, say) are not evidence and change nothing.
 */
function extendToRegion(g: ConeGeometry, box: Box, support: Uint8Array, width: number, height: number): ConeGeometry | null {
  if (g.shape !== 'sector') return null;
  let top = -1;
  for (let y = 0; y < height && top < 0; y++) {
    for (let x = 0; x < width; x++) {
      if (support[y * width + x]) {
        top = y;
        break;
      }
    }
  }
  const slackY = Math.max(3, 0.03 * height);
  const slackX = Math.max(3, 0.03 * width);
  if (top < 0 || Math.abs(top - box.y0) > slackY) return null;
  const centre = Math.min(Math.max(0, g.startAngle), g.endAngle);
  const reach = (box.y1 - g.apexY) / Math.cos(centre);
  if (!(reach > g.outerRadius)) return null;
  const leftCorner = g.apexX + reach * Math.sin(g.startAngle);
  const rightCorner = g.apexX + reach * Math.sin(g.endAngle);
  // Corners beyond the image cannot be checked against the region (the image was cropped).
  const leftOk = leftCorner < 0 || Math.abs(leftCorner - box.x0) <= slackX;
  const rightOk = rightCorner > width - 1 || Math.abs(rightCorner - box.x1) <= slackX;
  return leftOk && rightOk ? { ...g, outerRadius: reach } : null;
}
