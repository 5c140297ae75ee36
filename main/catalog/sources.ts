/** Source files: path, content hash, size; de-identified metadata only. */
import type { Database } from 'better-sqlite3';
import { prepared } from './statements';

export type SourceFormat = 'dicom' | 'png' | 'jpeg';

export interface SourceRecord {
  id: number;
  datasetId: string;
  path: string;
  relPath: string;
  format: SourceFormat;
  contentHash: string;
  size: number;
  mtimeMs: number;
  frames: number;
  importedFrames: number;
  duplicateOf: number | null;
  patientKey: string | null;
  studyUid: string | null;
  seriesUid: string | null;
  sopUid: string | null;
  meta: Record<string, unknown> | null;
}

interface SourceRow {
  id: number;
  dataset_id: string;
  path: string;
  rel_path: string;
  format: SourceFormat;
  content_hash: string;
  size: number;
  mtime_ms: number;
  frames: number;
  imported_frames: number;
  duplicate_of: number | null;
  patient_key: string | null;
  study_uid: string | null;
  series_uid: string | null;
  sop_uid: string | null;
  meta: string | null;
}

const toSource = (r: SourceRow): SourceRecord => ({
  id: r.id,
  datasetId: r.dataset_id,
  path: r.path,
  relPath: r.rel_path,
  format: r.format,
  contentHash: r.content_hash,
  size: r.size,
  mtimeMs: r.mtime_ms,
  frames: r.frames,
  importedFrames: r.imported_frames,
  duplicateOf: r.duplicate_of,
  patientKey: r.patient_key,
  studyUid: r.study_uid,
  seriesUid: r.series_uid,
  sopUid: r.sop_uid,
  meta: r.meta ? (JSON.parse(r.meta) as Record<string, unknown>) : null,
});

export function getSource(db: Database, id: number): SourceRecord | null {
  const row = prepared(db, `SELECT * FROM sources WHERE id = ?`).get(id) as SourceRow | undefined;
  return row ? toSource(row) : null;
}

export function findSourceByPath(db: Database, datasetId: string, path: string): SourceRecord | null {
  const row = prepared(db, `SELECT * FROM sources WHERE dataset_id = ? AND path = ?`).get(datasetId, path) as SourceRow | undefined;
  return row ? toSource(row) : null;
}

/** The first source of the dataset with this content (not itself a duplicate). */
export function findSourceByHash(db: Database, datasetId: string, hash: string): SourceRecord | null {
  const row = db
    .prepare(`SELECT * FROM sources WHERE dataset_id = ? AND content_hash = ? AND duplicate_of IS NULL ORDER BY id LIMIT 1`)
    .get(datasetId, hash) as SourceRow | undefined;
  return row ? toSource(row) : null;
}

export function insertSource(db: Database, s: Omit<SourceRecord, 'id'> & { importId: string | null }): number {
  const info = db
    .prepare(
      `INSERT INTO sources (dataset_id, path, rel_path, format, content_hash, size, mtime_ms, frames, imported_frames, duplicate_of,
         patient_key, study_uid, series_uid, sop_uid, meta, import_id, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .run(
      s.datasetId,
      s.path,
      s.relPath,
      s.format,
      s.contentHash,
      s.size,
      s.mtimeMs,
      s.frames,
      s.importedFrames,
      s.duplicateOf,
      s.patientKey,
      s.studyUid,
      s.seriesUid,
      s.sopUid,
      s.meta ? JSON.stringify(s.meta) : null,
      s.importId,
      new Date().toISOString(),
    );
  return Number(info.lastInsertRowid);
}

/** A changed file at a known path: drop the old record (and its items) before importing it again. */
export function deleteSource(db: Database, id: number): void {
  prepared(db, `DELETE FROM sources WHERE id = ?`).run(id);
}
