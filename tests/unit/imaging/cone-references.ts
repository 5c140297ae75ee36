/**
 * The hand-made reference cones of tests/fixtures/cones and the measures the cone tests apply to an
 * automatic detection: IoU, coverage of the reference (the whole scan area is inside) and the share of
 * overlay pixels (text, rulers, markers: bright pixels well outside the reference) that it leaves out.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeDicom } from '../../../main/dicom';
import { readPng } from '../../../main/ingest/image-read';
import { ConeGeometry, maskCoverage, maskIoU } from '../../../main/imaging/cone';
import { detectCone, type ConeDetection } from '../../../main/imaging/cone-detect';
import { dilate } from '../../../main/imaging/morphology';
import { toLuma8, type Raster } from '../../../main/imaging/raster';
import { rasterizeCone } from '../../../main/imaging/cone';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const SHARED_DATA = path.resolve(REPO_ROOT, '..', 'shared', 'data');
export const CONE_FIXTURES = path.join(REPO_ROOT, 'tests', 'fixtures', 'cones');

export interface ConeReference {
  name: string;
  source: string;
  kind: 'dicom' | 'image';
  width: number;
  height: number;
  geometry: ConeGeometry;
  notes: string;
}

export function loadReferences(): ConeReference[] {
  const json = JSON.parse(fs.readFileSync(path.join(CONE_FIXTURES, 'references.json'), 'utf8')) as { references: ConeReference[] };
  return json.references.map((r) => ({ ...r, geometry: ConeGeometry.parse(r.geometry) }));
}

/** The reference mask as committed (0/255 PNG), as 0/1. */
export function referenceMask(ref: ConeReference): Uint8Array {
  const png = readPng(fs.readFileSync(path.join(CONE_FIXTURES, `${ref.name}.png`)));
  const mask = new Uint8Array(png.width * png.height);
  for (let i = 0; i < mask.length; i++) mask[i] = png.data[i]! > 127 ? 1 : 0;
  return mask;
}

/** Every frame of the reference's source, decoded by the application's own decoders. */
export async function loadFrames(ref: ConeReference): Promise<{ frames: Raster[]; regions: NonNullable<Parameters<typeof detectCone>[1]>['regions'] }> {
  const file = path.join(SHARED_DATA, ref.source);
  const bytes = fs.readFileSync(file);
  if (ref.kind === 'image') return { frames: [readPng(bytes)], regions: [] };
  const decoded = await decodeDicom(bytes, path.basename(file));
  return { frames: decoded.frames.map((f) => f.raster), regions: decoded.info.ultrasoundRegions };
}

export interface ConeScore {
  detection: ConeDetection;
  iou: number;
  /** Share of the reference the automatic mask covers. */
  coverage: number;
  /** Share of overlay pixels (bright, > 8 px outside the reference) the automatic mask includes. */
  overlayIncluded: number;
  overlayPixels: number;
}

export function scoreDetection(ref: ConeReference, frames: Raster[], detection: ConeDetection): ConeScore {
  const auto = rasterizeCone(detection.geometry, ref.width, ref.height);
  const reference = referenceMask(ref);
  const near = dilate(reference, ref.width, ref.height, 8);
  const luma = toLuma8(frames[0]!);
  let overlay = 0;
  let included = 0;
  for (let p = 0; p < luma.length; p++) {
    if (near[p] || luma[p]! < 60) continue;
    overlay++;
    if (auto[p]) included++;
  }
  return {
    detection,
    iou: maskIoU(auto, reference),
    coverage: maskCoverage(reference, auto),
    overlayIncluded: overlay === 0 ? 0 : included / overlay,
    overlayPixels: overlay,
  };
}
