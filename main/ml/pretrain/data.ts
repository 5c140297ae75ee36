/**
 * Training images from the catalog: the dataset's items (its current split's train part when a split
 * exists, every item otherwise, exact duplicates left out), read from the decoded pixel cache as grey
 * [0, 1] images with their cone masks, and a hash of the exact item list the run used.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import type { Database } from 'better-sqlite3';
import { currentSplitId, listTrainingItems, type TrainingItem } from '../../catalog/items';
import { cachePath, decodeCachedRaster } from '../../imaging/pixel-cache';
import { toLuma8 } from '../../imaging/raster';
import type { GreyImage } from '../train/augment';

export interface PretrainItem {
  itemId: number;
  pixelKey: string;
  coneKey: string | null;
}

export interface PretrainSource {
  datasetId: string;
  items: PretrainItem[];
  /** Which items: 'train' (split part) or 'all'. */
  selection: 'train' | 'all';
  manifestHash: string;
  hasCones: boolean;
  load(item: PretrainItem): Promise<{ image: GreyImage; cone: GreyImage | null }>;
}

export function manifestHash(datasetId: string, items: readonly PretrainItem[]): string {
  const h = crypto.createHash('sha256').update(`${datasetId}\n`);
  for (const it of items) h.update(`${it.itemId}\t${it.pixelKey}\t${it.coneKey ?? '-'}\n`);
  return h.digest('hex');
}

async function readGrey(dataDir: string, key: string, what: string): Promise<GreyImage> {
  let bytes: Buffer;
  try {
    bytes = await fs.promises.readFile(cachePath(dataDir, key));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(`${what} ${key.slice(0, 12)} is missing from the pixel cache (re-import the dataset)`);
    throw err;
  }
  const raster = decodeCachedRaster(bytes, `${what} ${key.slice(0, 12)}`);
  const luma = toLuma8(raster);
  const data = new Float32Array(luma.length);
  for (let i = 0; i < luma.length; i++) data[i] = luma[i]! / 255;
  return { width: raster.width, height: raster.height, data };
}

/** Decoded images kept in memory up to `maxBytes` (least recently used dropped first). */
class ImageCache {
  private readonly entries = new Map<string, GreyImage>();
  private bytes = 0;
  constructor(private readonly maxBytes: number) {}

  get(key: string): GreyImage | undefined {
    const v = this.entries.get(key);
    if (v) {
      this.entries.delete(key);
      this.entries.set(key, v);
    }
    return v;
  }

  set(key: string, image: GreyImage): void {
    if (this.entries.has(key)) return;
    this.entries.set(key, image);
    this.bytes += image.data.byteLength;
    for (const [k, v] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(k);
      this.bytes -= v.data.byteLength;
    }
  }
}

export function openPretrainSource(db: Database, dataDir: string, datasetId: string, options: { cacheBytes?: number } = {}): PretrainSource {
  const hasSplit = currentSplitId(db, datasetId) !== null;
  const rows: TrainingItem[] = listTrainingItems(db, { datasetId, ...(hasSplit ? { split: 'train' as const } : {}) });
  const items = rows.map((r) => ({ itemId: r.itemId, pixelKey: r.pixelKey, coneKey: r.coneKey }));
  const cache = new ImageCache(options.cacheBytes ?? 512 * 1024 * 1024);
  const cached = async (key: string, what: string): Promise<GreyImage> => {
    const hit = cache.get(key);
    if (hit) return hit;
    const image = await readGrey(dataDir, key, what);
    cache.set(key, image);
    return image;
  };
  return {
    datasetId,
    items,
    selection: hasSplit ? 'train' : 'all',
    manifestHash: manifestHash(datasetId, items),
    hasCones: items.some((i) => i.coneKey !== null),
    async load(item) {
      const [image, cone] = await Promise.all([cached(item.pixelKey, 'image'), item.coneKey ? cached(item.coneKey, 'cone mask') : Promise.resolve(null)]);
      if (cone && (cone.width !== image.width || cone.height !== image.height)) throw new Error(`cone mask of item ${item.itemId} does not match its image size`);
      return { image, cone };
    },
  };
}
