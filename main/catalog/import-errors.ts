/** Per-file import errors: which file, and why. One row per file and dataset (a retry replaces it). */
import type { Database } from 'better-sqlite3';
import { prepared } from './statements';

export interface ImportError {
  id: number;
  datasetId: string;
  importId: string | null;
  /** Path relative to the import root (never absolute: this crosses to the renderer). */
  file: string;
  code: string;
  message: string;
  createdAt: string;
}

interface ErrorRow {
  id: number;
  dataset_id: string;
  import_id: string | null;
  rel_path: string;
  code: string;
  message: string;
  created_at: string;
}

export function recordImportError(db: Database, e: { datasetId: string; importId: string | null; path: string; relPath: string; code: string; message: string }): void {
  prepared(db, 
    `INSERT INTO import_errors (dataset_id, import_id, path, rel_path, code, message, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT(dataset_id, path) DO UPDATE SET import_id = excluded.import_id, rel_path = excluded.rel_path, code = excluded.code,
       message = excluded.message, created_at = excluded.created_at`,
  ).run(e.datasetId, e.importId, e.path, e.relPath, e.code, e.message, new Date().toISOString());
}

/** A file that now imports has no error any more. */
export function clearImportError(db: Database, datasetId: string, path: string): void {
  prepared(db, `DELETE FROM import_errors WHERE dataset_id = ? AND path = ?`).run(datasetId, path);
}

export function listImportErrors(db: Database, q: { datasetId?: string; importId?: string; limit: number; offset?: number }): { errors: ImportError[]; total: number } {
  const where: string[] = [];
  const args: unknown[] = [];
  if (q.datasetId) {
    where.push('dataset_id = ?');
    args.push(q.datasetId);
  }
  if (q.importId) {
    where.push('import_id = ?');
    args.push(q.importId);
  }
  const sql = where.length ? `WHERE ${where.join(' AND ')}` : '';
  const rows = prepared(db, `SELECT * FROM import_errors ${sql} ORDER BY rel_path LIMIT ? OFFSET ?`).all(...args, q.limit, q.offset ?? 0) as ErrorRow[];
  const total = (prepared(db, `SELECT COUNT(*) AS n FROM import_errors ${sql}`).get(...args) as { n: number }).n;
  return {
    errors: rows.map((r) => ({ id: r.id, datasetId: r.dataset_id, importId: r.import_id, file: r.rel_path, code: r.code, message: r.message, createdAt: r.created_at })),
    total,
  };
}
