/** Segmentation masks per item, versioned: ground truth from import, model predictions, user corrections. */
import type { Database } from 'better-sqlite3';
import { prepared } from './statements';

export type AnnotationOrigin = 'ground_truth' | 'predicted' | 'corrected';

export interface Annotation {
  id: number;
  itemId: number;
  origin: AnnotationOrigin;
  version: number;
  label: string | null;
  /** Pixel cache key of the 0/1 8-bit mask raster. */
  maskKey: string;
  modelId: string | null;
  createdAt: string;
}

interface AnnotationRow {
  id: number;
  item_id: number;
  origin: AnnotationOrigin;
  version: number;
  label: string | null;
  mask_key: string;
  model_id: string | null;
  created_at: string;
}

const toAnnotation = (r: AnnotationRow): Annotation => ({
  id: r.id,
  itemId: r.item_id,
  origin: r.origin,
  version: r.version,
  label: r.label,
  maskKey: r.mask_key,
  modelId: r.model_id,
  createdAt: r.created_at,
});

/** Add a new version; ground truth and corrections mark the item as having a mask. */
export function addAnnotation(
  db: Database,
  a: { itemId: number; origin: AnnotationOrigin; maskKey: string; label?: string | null; modelId?: string | null },
): Annotation {
  return db.transaction(() => {
    const version = (prepared(db, `SELECT COALESCE(MAX(version), 0) + 1 AS v FROM annotations WHERE item_id = ?`).get(a.itemId) as { v: number }).v;
    const info = db
      .prepare(`INSERT INTO annotations (item_id, origin, version, label, mask_key, model_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`)
      .run(a.itemId, a.origin, version, a.label ?? null, a.maskKey, a.modelId ?? null, new Date().toISOString());
    if (a.origin !== 'predicted') prepared(db, `UPDATE items SET has_mask = 1 WHERE id = ?`).run(a.itemId);
    return toAnnotation(prepared(db, `SELECT * FROM annotations WHERE id = ?`).get(info.lastInsertRowid) as AnnotationRow);
  })();
}

export function listAnnotations(db: Database, itemId: number): Annotation[] {
  return (prepared(db, `SELECT * FROM annotations WHERE item_id = ? ORDER BY version`).all(itemId) as AnnotationRow[]).map(toAnnotation);
}

/** The newest ground-truth or corrected mask (what training uses), or null. */
export function currentMask(db: Database, itemId: number): Annotation | null {
  const row = db
    .prepare(`SELECT * FROM annotations WHERE item_id = ? AND origin IN ('ground_truth','corrected') ORDER BY version DESC LIMIT 1`)
    .get(itemId) as AnnotationRow | undefined;
  return row ? toAnnotation(row) : null;
}
