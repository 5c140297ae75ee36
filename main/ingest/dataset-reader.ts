/**
 * Reading a dataset for training: which items, and their pixels, cone and masks from the pixel cache
 * (decoded once at import, so training never decodes DICOM). See README.md in this folder.
 */
import crypto from 'node:crypto';
import { readCachedRaster } from '../imaging/pixel-cache';
import type { Raster } from '../imaging/raster';
import type { TrainingItem } from '../catalog/items';

export { listTrainingItems, type TrainingItem, type TrainingItemQuery } from '../catalog/items';

/** The decoded frame, exactly as stored: grey or RGB, 8 or 16 bit. */
export function readCachedPixels(dataDir: string, item: Pick<TrainingItem, 'pixelKey'>): Raster {
  return readCachedRaster(dataDir, item.pixelKey);
}

function readBinary(dataDir: string, key: string, width: number, height: number, what: string): Uint8Array {
  const r = readCachedRaster(dataDir, key);
  if (r.width !== width || r.height !== height || r.channels !== 1) throw new Error(`${what} ${key.slice(0, 12)} does not match its item (${r.width}x${r.height})`);
  const out = new Uint8Array(width * height);
  for (let i = 0; i < out.length; i++) out[i] = r.data[i]! > 0 ? 1 : 0;
  return out;
}

/** The item's cone (corrected if the user corrected it, else automatic) as 0/1 per pixel, or null. */
export function readConeMask(dataDir: string, item: Pick<TrainingItem, 'coneKey' | 'width' | 'height'>): Uint8Array | null {
  return item.coneKey ? readBinary(dataDir, item.coneKey, item.width, item.height, 'cone mask') : null;
}

/** The item's newest ground-truth or corrected segmentation mask as 0/1 per pixel, or null. */
export function readSegmentationMask(dataDir: string, item: Pick<TrainingItem, 'maskKey' | 'width' | 'height'>): Uint8Array | null {
  return item.maskKey ? readBinary(dataDir, item.maskKey, item.width, item.height, 'segmentation mask') : null;
}

/** A hash of exactly which items (and pixels, cones, masks, parts) a run used: runs.manifest_hash. */
export function manifestHash(items: readonly TrainingItem[]): string {
  const hash = crypto.createHash('sha256');
  for (const i of [...items].sort((a, b) => a.itemId - b.itemId)) {
    hash.update(`${i.itemId}\t${i.pixelKey}\t${i.coneKey ?? ''}\t${i.maskKey ?? ''}\t${i.split ?? ''}\t${i.classLabel ?? ''}\n`);
  }
  return hash.digest('hex');
}
