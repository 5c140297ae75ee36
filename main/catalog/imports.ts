/** One row per import run (keyed by its job id): what was asked, how it ended, its counts. */
import type { Database } from 'better-sqlite3';
import { prepared } from './statements';

export type ImportState = 'running' | 'done' | 'stopped' | 'failed';

export interface ImportRecord {
  id: string;
  datasetId: string;
  roots: string[];
  params: unknown;
  state: ImportState;
  summary: unknown;
  startedAt: string;
  endedAt: string | null;
}

interface ImportRow {
  id: string;
  dataset_id: string;
  roots: string;
  params: string;
  state: ImportState;
  summary: string | null;
  started_at: string;
  ended_at: string | null;
}

const toRecord = (r: ImportRow): ImportRecord => ({
  id: r.id,
  datasetId: r.dataset_id,
  roots: JSON.parse(r.roots) as string[],
  params: JSON.parse(r.params) as unknown,
  state: r.state,
  summary: r.summary ? (JSON.parse(r.summary) as unknown) : null,
  startedAt: r.started_at,
  endedAt: r.ended_at,
});

export function beginImport(db: Database, id: string, datasetId: string, roots: string[], params: unknown): void {
  prepared(db, 
    `INSERT INTO imports (id, dataset_id, roots, params, state, started_at) VALUES (?, ?, ?, ?, 'running', ?)
     ON CONFLICT(id) DO UPDATE SET state = 'running', ended_at = NULL`,
  ).run(id, datasetId, JSON.stringify(roots), JSON.stringify(params), new Date().toISOString());
}

export function endImport(db: Database, id: string, state: Exclude<ImportState, 'running'>, summary: unknown): void {
  prepared(db, `UPDATE imports SET state = ?, summary = ?, ended_at = ? WHERE id = ?`).run(state, JSON.stringify(summary), new Date().toISOString(), id);
}

export function listImports(db: Database, datasetId: string): ImportRecord[] {
  return (prepared(db, `SELECT * FROM imports WHERE dataset_id = ? ORDER BY started_at DESC, rowid DESC`).all(datasetId) as ImportRow[]).map(toRecord);
}

export function getImport(db: Database, id: string): ImportRecord | null {
  const row = prepared(db, `SELECT * FROM imports WHERE id = ?`).get(id) as ImportRow | undefined;
  return row ? toRecord(row) : null;
}
