/**
 * Items: one decoded frame each (a still image or one frame of a cine loop). Paged, filtered queries for
 * the renderer and the CLI; label assignment; the training item list the pretraining code reads.
 */
import type { Database } from 'better-sqlite3';
import { prepared } from './statements';

export type SplitPart = 'train' | 'val' | 'test';
export type Tristate = 'include' | 'exclude' | 'only';

export interface ItemFilter {
  datasetId: string;
  /** Organ id; null = items without an organ. */
  organ?: string | null;
  /** Class label; null = items without one. */
  classLabel?: string | null;
  /** Part of the dataset's current split; 'unassigned' = items the current split does not cover. */
  split?: SplitPart | 'unassigned';
  hasMask?: boolean;
  /** Exact duplicates (identical pixels to an earlier item). Default include. */
  duplicates?: Tristate;
  /** Near-duplicate frames of a cine loop. Default include. */
  nearDuplicates?: Tristate;
  sourceId?: number;
  format?: 'dicom' | 'png' | 'jpeg';
  /** Substring of the source's relative path (case-insensitive). */
  pathContains?: string;
}

export interface ItemRow {
  id: number;
  datasetId: string;
  sourceId: number;
  frameIndex: number;
  width: number;
  height: number;
  channels: 1 | 3;
  bitDepth: 8 | 16;
  signed: boolean;
  pixelKey: string;
  patientKey: string;
  organ: string | null;
  classLabel: string | null;
  folderSplit: string | null;
  hasMask: boolean;
  duplicateOf: number | null;
  nearDuplicateOf: number | null;
  /** Part in the dataset's current split, or null. */
  split: SplitPart | null;
  relPath: string;
  format: 'dicom' | 'png' | 'jpeg';
  sourceFrames: number;
}

interface RawItem {
  id: number;
  dataset_id: string;
  source_id: number;
  frame_index: number;
  width: number;
  height: number;
  channels: 1 | 3;
  bit_depth: 8 | 16;
  signed: number;
  pixel_key: string;
  patient_key: string;
  organ: string | null;
  class_label: string | null;
  folder_split: string | null;
  has_mask: number;
  duplicate_of: number | null;
  near_duplicate_of: number | null;
  part: SplitPart | null;
  rel_path: string;
  format: 'dicom' | 'png' | 'jpeg';
  frames: number;
}

const toItem = (r: RawItem): ItemRow => ({
  id: r.id,
  datasetId: r.dataset_id,
  sourceId: r.source_id,
  frameIndex: r.frame_index,
  width: r.width,
  height: r.height,
  channels: r.channels,
  bitDepth: r.bit_depth,
  signed: r.signed === 1,
  pixelKey: r.pixel_key,
  patientKey: r.patient_key,
  organ: r.organ,
  classLabel: r.class_label,
  folderSplit: r.folder_split,
  hasMask: r.has_mask === 1,
  duplicateOf: r.duplicate_of,
  nearDuplicateOf: r.near_duplicate_of,
  split: r.part,
  relPath: r.rel_path,
  format: r.format,
  sourceFrames: r.frames,
});

/** The dataset's current (latest) split id, or null. */
export function currentSplitId(db: Database, datasetId: string): number | null {
  const row = prepared(db, `SELECT id FROM splits WHERE dataset_id = ? ORDER BY id DESC LIMIT 1`).get(datasetId) as { id: number } | undefined;
  return row?.id ?? null;
}

function whereClause(filter: ItemFilter): { sql: string; args: unknown[] } {
  const where = ['i.dataset_id = ?'];
  const args: unknown[] = [filter.datasetId];
  const add = (clause: string, ...values: unknown[]): void => {
    where.push(clause);
    args.push(...values);
  };
  if (filter.organ !== undefined) {
    if (filter.organ === null) add('i.organ IS NULL');
    else add('i.organ = ?', filter.organ);
  }
  if (filter.classLabel !== undefined) {
    if (filter.classLabel === null) add('i.class_label IS NULL');
    else add('i.class_label = ?', filter.classLabel);
  }
  if (filter.hasMask !== undefined) add('i.has_mask = ?', filter.hasMask ? 1 : 0);
  const tri = (column: string, mode: Tristate | undefined): void => {
    if (mode === 'exclude') where.push(`i.${column} IS NULL`);
    else if (mode === 'only') where.push(`i.${column} IS NOT NULL`);
  };
  tri('duplicate_of', filter.duplicates);
  tri('near_duplicate_of', filter.nearDuplicates);
  if (filter.sourceId !== undefined) add('i.source_id = ?', filter.sourceId);
  if (filter.format || filter.pathContains) {
    const parts: string[] = [];
    const values: unknown[] = [];
    if (filter.format) {
      parts.push('s.format = ?');
      values.push(filter.format);
    }
    if (filter.pathContains) {
      parts.push(`s.rel_path LIKE ? ESCAPE '\\'`);
      values.push(`%${filter.pathContains.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
    }
    // Not correlated (dataset id bound, not i.dataset_id): the sources are matched once, then their items.
    add(`i.source_id IN (SELECT s.id FROM sources s WHERE s.dataset_id = ? AND ${parts.join(' AND ')})`, filter.datasetId, ...values);
  }
  // items.split_part mirrors the current split (createSplit keeps it so): one indexed column to filter on.
  if (filter.split === 'unassigned') add('i.split_part IS NULL');
  else if (filter.split) add('i.split_part = ?', filter.split);
  return { sql: where.join(' AND '), args };
}

export interface ItemPage {
  items: ItemRow[];
  total: number;
  /** Pass as `afterId` for the next page; null at the end. */
  nextCursor: number | null;
}

/** One page of items in id order. `afterId` (keyset) is the fast way to page; `offset` jumps. */
export function queryItems(db: Database, filter: ItemFilter, page: { limit: number; afterId?: number; offset?: number; withTotal?: boolean }): ItemPage {
  const { sql, args } = whereClause(filter);
  const keyset = page.afterId !== undefined ? ' AND i.id > ?' : '';
  const rows = db
    .prepare(
      `SELECT i.*, i.split_part AS part, s.rel_path, s.format, s.frames
       FROM items i
       JOIN sources s ON s.id = i.source_id
       WHERE ${sql}${keyset}
       ORDER BY i.id LIMIT ? OFFSET ?`,
    )
    .all(...args, ...(page.afterId !== undefined ? [page.afterId] : []), page.limit + 1, page.offset ?? 0) as RawItem[];
  const more = rows.length > page.limit;
  const items = rows.slice(0, page.limit).map(toItem);
  const total =
    page.withTotal === false ? -1 : (prepared(db, `SELECT COUNT(*) AS n FROM items i WHERE ${sql}`).get(...args) as { n: number }).n;
  return { items, total, nextCursor: more ? items.at(-1)!.id : null };
}

export function getItem(db: Database, id: number): ItemRow | null {
  const row = db
    .prepare(
      `SELECT i.*, i.split_part AS part, s.rel_path, s.format, s.frames
       FROM items i JOIN sources s ON s.id = i.source_id WHERE i.id = ?`,
    )
    .get(id) as RawItem | undefined;
  return row ? toItem(row) : null;
}

/** Ids of every item matching the filter (for bulk label assignment). */
export function itemIds(db: Database, filter: ItemFilter): number[] {
  const { sql, args } = whereClause(filter);
  return (prepared(db, `SELECT i.id FROM items i WHERE ${sql} ORDER BY i.id`).all(...args) as { id: number }[]).map((r) => r.id);
}

export interface LabelChange {
  /** Organ id, null to clear, undefined to leave alone. */
  organ?: string | null;
  classLabel?: string | null;
}

/** Set the organ and/or class label of the given items; returns how many changed. */
export function assignLabels(db: Database, ids: readonly number[], change: LabelChange): number {
  const sets: string[] = [];
  const args: unknown[] = [];
  if (change.organ !== undefined) {
    sets.push('organ = ?');
    args.push(change.organ);
  }
  if (change.classLabel !== undefined) {
    sets.push('class_label = ?');
    args.push(change.classLabel);
  }
  if (sets.length === 0 || ids.length === 0) return 0;
  const stmt = prepared(db, `UPDATE items SET ${sets.join(', ')} WHERE id = ?`);
  return db.transaction(() => {
    let n = 0;
    for (const id of ids) n += stmt.run(...args, id).changes;
    return n;
  })();
}

/** What the pretraining and fine-tuning code needs per item: where the pixels, the cone and the mask are. */
export interface TrainingItem {
  itemId: number;
  /** Pixel cache key of the decoded frame: read with readCachedPixels(dataDir, item). */
  pixelKey: string;
  width: number;
  height: number;
  channels: 1 | 3;
  bitDepth: 8 | 16;
  signed: boolean;
  /** Pixel cache key of the cone mask in use (corrected if any, else automatic), or null. */
  coneKey: string | null;
  coneOrigin: 'auto' | 'corrected' | null;
  /** Pixel cache key of the newest ground-truth or corrected mask, or null. */
  maskKey: string | null;
  organ: string | null;
  classLabel: string | null;
  patientKey: string;
  split: SplitPart | null;
}

export interface TrainingItemQuery {
  datasetId: string;
  /** A part of the split (the dataset's current split unless splitId is given); omit for every item. */
  split?: SplitPart;
  splitId?: number;
  /** Leave out exact duplicates (default true) and near-duplicate frames (default false). */
  excludeDuplicates?: boolean;
  excludeNearDuplicates?: boolean;
  requireMask?: boolean;
}

export function listTrainingItems(db: Database, query: TrainingItemQuery): TrainingItem[] {
  const splitId = query.splitId ?? currentSplitId(db, query.datasetId);
  const where = ['i.dataset_id = ?'];
  const args: unknown[] = [query.datasetId];
  if (query.split) {
    if (splitId === null) return [];
    where.push('si.part = ?');
    args.push(query.split);
  }
  if (query.excludeDuplicates ?? true) where.push('i.duplicate_of IS NULL');
  if (query.excludeNearDuplicates) where.push('i.near_duplicate_of IS NULL');
  if (query.requireMask) where.push('i.has_mask = 1');
  const rows = db
    .prepare(
      `SELECT i.id, i.pixel_key, i.width, i.height, i.channels, i.bit_depth, i.signed, i.organ, i.class_label, i.patient_key, si.part,
              COALESCE(cc.mask_key, ca.mask_key) AS cone_key,
              CASE WHEN cc.mask_key IS NOT NULL THEN 'corrected' WHEN ca.mask_key IS NOT NULL THEN 'auto' END AS cone_origin,
              (SELECT a.mask_key FROM annotations a WHERE a.item_id = i.id AND a.origin IN ('ground_truth','corrected')
                 ORDER BY a.version DESC LIMIT 1) AS mask_key
       FROM items i
       ${query.split ? 'JOIN' : 'LEFT JOIN'} split_items si ON si.split_id = ? AND si.item_id = i.id
       LEFT JOIN cones cc ON cc.item_id = i.id AND cc.origin = 'corrected'
       LEFT JOIN cones ca ON ca.item_id = i.id AND ca.origin = 'auto'
       WHERE ${where.join(' AND ')}
       ORDER BY i.id`,
    )
    .all(splitId ?? -1, ...args) as {
    id: number;
    pixel_key: string;
    width: number;
    height: number;
    channels: 1 | 3;
    bit_depth: 8 | 16;
    signed: number;
    organ: string | null;
    class_label: string | null;
    patient_key: string;
    part: SplitPart | null;
    cone_key: string | null;
    cone_origin: 'auto' | 'corrected' | null;
    mask_key: string | null;
  }[];
  return rows.map((r) => ({
    itemId: r.id,
    pixelKey: r.pixel_key,
    width: r.width,
    height: r.height,
    channels: r.channels,
    bitDepth: r.bit_depth,
    signed: r.signed === 1,
    coneKey: r.cone_key,
    coneOrigin: r.cone_origin,
    maskKey: r.mask_key,
    organ: r.organ,
    classLabel: r.class_label,
    patientKey: r.patient_key,
    split: r.part,
  }));
}
