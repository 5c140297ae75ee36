/** Cone (field of view) records per item: the automatic one from import and the user's correction. */
import type { Database } from 'better-sqlite3';
import { prepared } from './statements';
import { ConeGeometry } from '../imaging/cone';

export type ConeOrigin = 'auto' | 'corrected';

export interface ConeRecord {
  itemId: number;
  origin: ConeOrigin;
  geometry: ConeGeometry;
  method: string;
  confidence: number | null;
  /** Pixel cache key of the rasterised 0/1 mask. */
  maskKey: string;
  createdAt: string;
}

interface ConeRow {
  item_id: number;
  origin: ConeOrigin;
  geometry: string;
  method: string;
  confidence: number | null;
  mask_key: string;
  created_at: string;
}

const toCone = (r: ConeRow): ConeRecord => ({
  itemId: r.item_id,
  origin: r.origin,
  geometry: ConeGeometry.parse(JSON.parse(r.geometry)),
  method: r.method,
  confidence: r.confidence,
  maskKey: r.mask_key,
  createdAt: r.created_at,
});

export function saveCone(db: Database, cone: Omit<ConeRecord, 'createdAt'>): void {
  prepared(db, 
    `INSERT INTO cones (item_id, origin, geometry, method, confidence, mask_key, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT(item_id, origin) DO UPDATE SET geometry = excluded.geometry, method = excluded.method,
       confidence = excluded.confidence, mask_key = excluded.mask_key, created_at = excluded.created_at`,
  ).run(cone.itemId, cone.origin, JSON.stringify(cone.geometry), cone.method, cone.confidence, cone.maskKey, new Date().toISOString());
}

/** Both records of an item and the one in use (the correction wins). */
export function getCones(db: Database, itemId: number): { auto: ConeRecord | null; corrected: ConeRecord | null; effective: ConeRecord | null } {
  const rows = (prepared(db, `SELECT * FROM cones WHERE item_id = ?`).all(itemId) as ConeRow[]).map(toCone);
  const auto = rows.find((r) => r.origin === 'auto') ?? null;
  const corrected = rows.find((r) => r.origin === 'corrected') ?? null;
  return { auto, corrected, effective: corrected ?? auto };
}

export function deleteCorrectedCone(db: Database, itemId: number): boolean {
  return prepared(db, `DELETE FROM cones WHERE item_id = ? AND origin = 'corrected'`).run(itemId).changes > 0;
}
