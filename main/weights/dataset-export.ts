/**
 * Export a dataset for pretraining or fine-tuning on a GPU cluster with the public PyTorch code (MAE, USFM):
 * de-identified 8-bit PNG images (pixels outside the ultrasound cone blanked: burned-in names, dates and
 * calipers live there), 0/255 masks, labels, split lists and a manifest, in the folder layouts those codes
 * read. Every image is written once under `images/`; the per-code folders hold hard links to it (a copy
 * where the file system cannot link).
 *
 *   OUT/manifest.json                       dataset, split, options, counts, hashes, one entry per item
 *   OUT/labels.csv                          file, split, class_label, organ, group, has_mask, width, height
 *   OUT/splits/{train,val,test}.txt         image paths relative to OUT
 *   OUT/images/item_<id>.png, OUT/masks/item_<id>.png
 *   OUT/mae/{train,val}/<class>/item_<id>.png                               MAE main_pretrain.py --data_path OUT/mae
 *   OUT/usfm/Seg/<name>/{trainning_set,val_set,test_set}/{image,mask}/...  USFM segmentation (its spelling)
 *   OUT/usfm/Cls/<name>/{trainning_set,val_set,test_set}/<class>/...       USFM classification
 *
 * File names carry only the catalog's item id; patients appear as per-export group numbers (g0001...).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Database } from 'better-sqlite3';
import { getCurrentSplit } from '../catalog/splits';
import { resolveDataset } from '../catalog/datasets';
import { listTrainingItems, type SplitPart, type TrainingItem } from '../catalog/items';
import { readCachedRaster } from '../imaging/pixel-cache';
import { blankOutsideCone } from '../imaging/cone';
import { toDisplay8 } from '../imaging/raster';
import { encodeMaskPng, encodePng } from '../imaging/png';
import { manifestHash as pretrainManifestHash } from '../ml/pretrain/data';
import { writeFileAtomic } from '../util/atomic-write';

export const DATASET_EXPORT_FORMAT = 'usfm-workbench-dataset-export';
const USFM_SETS: Record<SplitPart, string> = { train: 'trainning_set', val: 'val_set', test: 'test_set' };
const UNLABELLED = 'unlabelled';

export interface DatasetExportOptions {
  /** Dataset id or name. */
  dataset: string;
  outDir: string;
  /** Blank pixels outside the cone when the item has one (default true). */
  blankOutsideCone?: boolean;
  /** Leave out near-duplicate frames of cine loops (default false; exact duplicates are always left out). */
  excludeNearDuplicates?: boolean;
  onProgress?: (done: number, total: number) => void;
  checkStop?: () => void;
}

export interface DatasetExportEntry {
  file: string;
  mask: string | null;
  split: SplitPart | null;
  classLabel: string | null;
  organ: string | null;
  /** Per-export patient group: items of one patient share it, nothing links it back to the patient. */
  group: string;
  width: number;
  height: number;
  coneBlanked: boolean;
  itemId: number;
  sha256: string;
}

export interface DatasetExportResult {
  dataset: { id: string; name: string };
  items: number;
  masks: number;
  parts: Record<SplitPart | 'unassigned', number>;
  classes: string[];
  /** SHA-256 over the exported item list (ids, pixel, cone and mask keys, parts). */
  manifestHash: string;
  /** The hash the workbench's own pretraining records for the same train items (runs.manifest_hash). */
  pretrainManifestHash: string;
  links: 'hard links' | 'copies';
}

export class DatasetExportError extends Error {
  constructor(
    readonly code: 'NOT_FOUND' | 'BAD_INPUT' | 'CONFLICT',
    message: string,
  ) {
    super(message);
    this.name = 'DatasetExportError';
  }
}

/** A folder name that is safe on every file system and keeps the label readable. */
export function safeFolderName(label: string): string {
  const cleaned = label
    .normalize('NFKC')
    .replace(/[<>:"/\\|?*]/g, '_')
    .replace(/\p{Cc}/gu, '_')
    .replace(/^[.\s]+|[.\s]+$/g, '')
    .slice(0, 80);
  return cleaned || '_';
}

function sha256(bytes: Uint8Array): string {
  return crypto.createHash('sha256').update(bytes).digest('hex');
}

/** An export goes into a new folder or an empty one, never over files already there. */
export function outputFolderInUse(dir: string): boolean {
  return fs.existsSync(dir) && (!fs.statSync(dir).isDirectory() || fs.readdirSync(dir).length > 0);
}

export function exportDataset(db: Database, dataDir: string, options: DatasetExportOptions): DatasetExportResult {
  const dataset = resolveDataset(db, options.dataset);
  if (!dataset) throw new DatasetExportError('NOT_FOUND', `no dataset "${options.dataset}"`);
  const out = path.resolve(options.outDir);
  if (outputFolderInUse(out)) {
    throw new DatasetExportError('CONFLICT', 'the output folder exists and is not empty: choose a new or empty folder');
  }
  const split = getCurrentSplit(db, dataset.id);
  const items = listTrainingItems(db, { datasetId: dataset.id, excludeDuplicates: true, excludeNearDuplicates: options.excludeNearDuplicates ?? false });
  if (items.length === 0) throw new DatasetExportError('BAD_INPUT', `dataset "${dataset.name}" has no items to export`);
  const blank = options.blankOutsideCone ?? true;
  const dsFolder = safeFolderName(dataset.name);
  // Without a split, everything is training data; with one, items added after it belong to no part.
  const partOf = (item: TrainingItem): SplitPart | null => (split ? item.split : 'train');

  fs.mkdirSync(out, { recursive: true });
  let linkMode: DatasetExportResult['links'] = 'hard links';
  const place = (source: string, target: string): void => {
    fs.mkdirSync(path.dirname(target), { recursive: true });
    if (linkMode === 'hard links') {
      try {
        fs.linkSync(source, target);
        return;
      } catch {
        linkMode = 'copies';
      }
    }
    fs.copyFileSync(source, target);
  };

  const groups = new Map<string, string>();
  const entries: DatasetExportEntry[] = [];
  const parts: DatasetExportResult['parts'] = { train: 0, val: 0, test: 0, unassigned: 0 };
  const classes = new Set<string>();
  const lists: Record<SplitPart, string[]> = { train: [], val: [], test: [] };
  let masks = 0;
  items.forEach((item, index) => {
    options.checkStop?.();
    const name = `item_${item.itemId}.png`;
    let raster = readCachedRaster(dataDir, item.pixelKey);
    let coneBlanked = false;
    if (blank && item.coneKey) {
      const cone = readCachedRaster(dataDir, item.coneKey);
      if (cone.width === raster.width && cone.height === raster.height) {
        raster = blankOutsideCone(raster, cone.data as Uint8Array);
        coneBlanked = true;
      }
    }
    const display = toDisplay8(raster);
    const png = encodePng({ width: raster.width, height: raster.height, channels: display.channels, bitDepth: 8, signed: false, data: display.data });
    const imageFile = path.join(out, 'images', name);
    writeFileAtomic(imageFile, png);
    let maskFile: string | null = null;
    if (item.maskKey) {
      const mask = readCachedRaster(dataDir, item.maskKey);
      maskFile = path.join(out, 'masks', name);
      writeFileAtomic(maskFile, encodeMaskPng(mask.data as Uint8Array, mask.width, mask.height));
      masks++;
    }
    const part = partOf(item);
    parts[part ?? 'unassigned']++;
    const classFolder = safeFolderName(item.classLabel ?? UNLABELLED);
    if (item.classLabel) classes.add(item.classLabel);
    if (part) {
      lists[part].push(`images/${name}`);
      if (part !== 'test') place(imageFile, path.join(out, 'mae', part, classFolder, name)); // test images stay unseen by pretraining
      if (maskFile) {
        place(imageFile, path.join(out, 'usfm', 'Seg', dsFolder, USFM_SETS[part], 'image', name));
        place(maskFile, path.join(out, 'usfm', 'Seg', dsFolder, USFM_SETS[part], 'mask', name));
      }
      if (item.classLabel) place(imageFile, path.join(out, 'usfm', 'Cls', dsFolder, USFM_SETS[part], classFolder, name));
    }
    if (!groups.has(item.patientKey)) groups.set(item.patientKey, `g${String(groups.size + 1).padStart(4, '0')}`);
    entries.push({
      file: `images/${name}`,
      mask: maskFile ? `masks/${name}` : null,
      split: part,
      classLabel: item.classLabel,
      organ: item.organ,
      group: groups.get(item.patientKey)!,
      width: raster.width,
      height: raster.height,
      coneBlanked,
      itemId: item.itemId,
      sha256: sha256(png),
    });
    options.onProgress?.(index + 1, items.length);
  });

  for (const part of ['train', 'val', 'test'] as const) writeFileAtomic(path.join(out, 'splits', `${part}.txt`), lists[part].map((l) => `${l}\n`).join(''));
  const csv = (v: string | number | null): string => (v === null ? '' : /[",\n]/.test(String(v)) ? `"${String(v).replace(/"/g, '""')}"` : String(v));
  writeFileAtomic(
    path.join(out, 'labels.csv'),
    ['file,split,class_label,organ,group,has_mask,width,height', ...entries.map((e) => [e.file, e.split, e.classLabel, e.organ, e.group, e.mask ? 1 : 0, e.width, e.height].map(csv).join(','))].join('\n') + '\n',
  );

  const hash = crypto.createHash('sha256').update(`${dataset.id}\n`);
  for (const [i, item] of items.entries()) hash.update(`${item.itemId}\t${item.pixelKey}\t${item.coneKey ?? '-'}\t${item.maskKey ?? '-'}\t${entries[i]!.split ?? '-'}\n`);
  const trainItems = items.filter((item) => partOf(item) === 'train').map((i) => ({ itemId: i.itemId, pixelKey: i.pixelKey, coneKey: i.coneKey }));
  const result: DatasetExportResult = {
    dataset: { id: dataset.id, name: dataset.name },
    items: entries.length,
    masks,
    parts,
    classes: [...classes].sort(),
    manifestHash: hash.digest('hex'),
    pretrainManifestHash: pretrainManifestHash(dataset.id, trainItems),
    links: linkMode,
  };
  const manifest = {
    format: DATASET_EXPORT_FORMAT,
    version: 1,
    exportedAt: new Date().toISOString(),
    ...result,
    split: split ? { id: split.id, seed: split.seed, test: split.test, val: split.val, stratify: split.stratify } : null,
    options: { blankOutsideCone: blank, excludeNearDuplicates: options.excludeNearDuplicates ?? false, exactDuplicates: 'excluded' },
    layouts: {
      mae: 'mae/{train,val}/<class>/ (torchvision ImageFolder; test images are not included)',
      usfmSegmentation: `usfm/Seg/${dsFolder}/{trainning_set,val_set,test_set}/{image,mask}/`,
      usfmClassification: `usfm/Cls/${dsFolder}/{trainning_set,val_set,test_set}/<class>/`,
    },
    items: entries,
  };
  writeFileAtomic(path.join(out, 'manifest.json'), `${JSON.stringify(manifest, null, 1)}\n`);
  return result;
}

/** The dataset identity recorded by an export's manifest.json (for models trained on it elsewhere). */
export function readExportManifest(file: string): { dataset: { id: string; name: string }; manifestHash: string; pretrainManifestHash: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    throw new DatasetExportError('BAD_INPUT', 'the dataset manifest is not readable JSON');
  }
  const m = parsed as { format?: string; dataset?: { id: string; name: string }; manifestHash?: string; pretrainManifestHash?: string };
  if (m.format !== DATASET_EXPORT_FORMAT || !m.dataset || typeof m.manifestHash !== 'string' || typeof m.pretrainManifestHash !== 'string') {
    throw new DatasetExportError('BAD_INPUT', 'not a manifest.json written by `usfm dataset export`');
  }
  return { dataset: m.dataset, manifestHash: m.manifestHash, pretrainManifestHash: m.pretrainManifestHash };
}
