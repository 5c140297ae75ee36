import crypto from 'node:crypto';
import type { Database } from 'better-sqlite3';
import { prepared } from './statements';

export interface Dataset {
  id: string;
  name: string;
  description: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface DatasetSummary extends Dataset {
  items: number;
  sources: number;
  patients: number;
  withMask: number;
  duplicates: number;
  nearDuplicates: number;
  errors: number;
  classLabels: { label: string; count: number }[];
  organs: { organ: string; count: number }[];
  lastImport: { id: string; state: string; startedAt: string; endedAt: string | null } | null;
}

interface DatasetRow {
  id: string;
  name: string;
  description: string | null;
  created_at: string;
  updated_at: string;
}

const toDataset = (r: DatasetRow): Dataset => ({ id: r.id, name: r.name, description: r.description, createdAt: r.created_at, updatedAt: r.updated_at });

export class DatasetNameTaken extends Error {
  constructor(name: string) {
    super(`a dataset named "${name}" already exists`);
    this.name = 'DatasetNameTaken';
  }
}

export function newDatasetId(): string {
  return `ds_${crypto.randomBytes(6).toString('hex')}`;
}

export function createDataset(db: Database, name: string, description: string | null = null): Dataset {
  const trimmed = name.trim();
  if (!trimmed) throw new Error('a dataset needs a name');
  if (findDatasetByName(db, trimmed)) throw new DatasetNameTaken(trimmed);
  const now = new Date().toISOString();
  const id = newDatasetId();
  prepared(db, `INSERT INTO datasets (id, name, description, created_at, updated_at) VALUES (?, ?, ?, ?, ?)`).run(id, trimmed, description, now, now);
  return getDataset(db, id)!;
}

/** The dataset of that name, created when missing (names are case-insensitive). */
export function getOrCreateDataset(db: Database, name: string): Dataset {
  return db.transaction(() => findDatasetByName(db, name.trim()) ?? createDataset(db, name))();
}

export function getDataset(db: Database, id: string): Dataset | null {
  const row = prepared(db, `SELECT * FROM datasets WHERE id = ?`).get(id) as DatasetRow | undefined;
  return row ? toDataset(row) : null;
}

export function findDatasetByName(db: Database, name: string): Dataset | null {
  const row = prepared(db, `SELECT * FROM datasets WHERE name = ? COLLATE NOCASE`).get(name.trim()) as DatasetRow | undefined;
  return row ? toDataset(row) : null;
}

/** By id (ds_...) or by name: what CLI users type. */
export function resolveDataset(db: Database, idOrName: string): Dataset | null {
  return getDataset(db, idOrName) ?? findDatasetByName(db, idOrName);
}

export function renameDataset(db: Database, id: string, name: string): Dataset {
  const other = findDatasetByName(db, name);
  if (other && other.id !== id) throw new DatasetNameTaken(name.trim());
  prepared(db, `UPDATE datasets SET name = ?, updated_at = ? WHERE id = ?`).run(name.trim(), new Date().toISOString(), id);
  const ds = getDataset(db, id);
  if (!ds) throw new Error(`no dataset ${id}`);
  return ds;
}

/** Remove a dataset and everything recorded about it; cached pixels stay (they may be shared). */
export function deleteDataset(db: Database, id: string): boolean {
  return prepared(db, `DELETE FROM datasets WHERE id = ?`).run(id).changes > 0;
}

export function touchDataset(db: Database, id: string): void {
  prepared(db, `UPDATE datasets SET updated_at = ? WHERE id = ?`).run(new Date().toISOString(), id);
}

export function summarizeDataset(db: Database, ds: Dataset): DatasetSummary {
  const counts = db
    .prepare(
      `SELECT COUNT(*) AS items, COUNT(DISTINCT patient_key) AS patients, COALESCE(SUM(has_mask), 0) AS withMask,
              COALESCE(SUM(duplicate_of IS NOT NULL), 0) AS duplicates, COALESCE(SUM(near_duplicate_of IS NOT NULL), 0) AS nearDuplicates
       FROM items WHERE dataset_id = ?`,
    )
    .get(ds.id) as { items: number; patients: number; withMask: number; duplicates: number; nearDuplicates: number };
  const sources = (prepared(db, `SELECT COUNT(*) AS n FROM sources WHERE dataset_id = ?`).get(ds.id) as { n: number }).n;
  const errors = (prepared(db, `SELECT COUNT(*) AS n FROM import_errors WHERE dataset_id = ?`).get(ds.id) as { n: number }).n;
  const classLabels = db
    .prepare(`SELECT class_label AS label, COUNT(*) AS count FROM items WHERE dataset_id = ? AND class_label IS NOT NULL GROUP BY class_label ORDER BY class_label`)
    .all(ds.id) as { label: string; count: number }[];
  const organs = db
    .prepare(`SELECT organ, COUNT(*) AS count FROM items WHERE dataset_id = ? AND organ IS NOT NULL GROUP BY organ ORDER BY organ`)
    .all(ds.id) as { organ: string; count: number }[];
  const last = db
    .prepare(`SELECT id, state, started_at AS startedAt, ended_at AS endedAt FROM imports WHERE dataset_id = ? ORDER BY started_at DESC, rowid DESC LIMIT 1`)
    .get(ds.id) as DatasetSummary['lastImport'] | undefined;
  return { ...ds, ...counts, sources, errors, classLabels, organs, lastImport: last ?? null };
}

export function listDatasets(db: Database): DatasetSummary[] {
  const rows = prepared(db, `SELECT * FROM datasets ORDER BY name COLLATE NOCASE`).all() as DatasetRow[];
  return rows.map((r) => summarizeDataset(db, toDataset(r)));
}
