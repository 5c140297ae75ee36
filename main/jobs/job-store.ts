import type { Database } from 'better-sqlite3';
import type { JobProgress, JobRecord, JobState } from '../api/contract';

interface JobRow {
  id: string;
  kind: string;
  title: string;
  state: JobState;
  params: string;
  progress: string | null;
  result: string | null;
  error_code: string | null;
  error_msg: string | null;
  pid: number | null;
  created_at: string;
  started_at: string | null;
  ended_at: string | null;
}

function toRecord(row: JobRow): JobRecord {
  return {
    id: row.id,
    kind: row.kind,
    title: row.title,
    state: row.state,
    params: JSON.parse(row.params) as unknown,
    progress: row.progress ? (JSON.parse(row.progress) as JobProgress) : null,
    result: row.result ? (JSON.parse(row.result) as unknown) : null,
    error: row.error_code ? { code: row.error_code, message: row.error_msg ?? '' } : null,
    pid: row.pid,
    createdAt: row.created_at,
    startedAt: row.started_at,
    endedAt: row.ended_at,
  };
}

/** The `jobs` table: the durable record of every job, so a reopened window or CLI sees its state. */
export class JobStore {
  constructor(private readonly db: Database) {}

  insert(job: { id: string; kind: string; title: string; params: unknown }): JobRecord {
    this.db
      .prepare(`INSERT INTO jobs (id, kind, title, state, params, created_at) VALUES (?, ?, ?, 'queued', ?, ?)`)
      .run(job.id, job.kind, job.title, JSON.stringify(job.params ?? null), new Date().toISOString());
    return this.get(job.id)!;
  }

  get(id: string): JobRecord | null {
    const row = this.db.prepare(`SELECT * FROM jobs WHERE id = ?`).get(id) as JobRow | undefined;
    return row ? toRecord(row) : null;
  }

  list(filter: { limit: number; kind?: string; state?: JobState }): JobRecord[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (filter.kind) {
      where.push('kind = ?');
      args.push(filter.kind);
    }
    if (filter.state) {
      where.push('state = ?');
      args.push(filter.state);
    }
    const sql = `SELECT * FROM jobs ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC, rowid DESC LIMIT ?`;
    return (this.db.prepare(sql).all(...args, filter.limit) as JobRow[]).map(toRecord);
  }

  markRunning(id: string, pid: number | null): void {
    this.db.prepare(`UPDATE jobs SET state = 'running', pid = ?, started_at = ? WHERE id = ?`).run(pid, new Date().toISOString(), id);
  }

  setPid(id: string, pid: number): void {
    this.db.prepare(`UPDATE jobs SET pid = ? WHERE id = ?`).run(pid, id);
  }

  saveProgress(id: string, progress: JobProgress): void {
    this.db.prepare(`UPDATE jobs SET progress = ? WHERE id = ?`).run(JSON.stringify(progress), id);
  }

  finish(id: string, state: JobState, outcome: { result?: unknown; error?: { code: string; message: string } }): void {
    this.db
      .prepare(`UPDATE jobs SET state = ?, result = ?, error_code = ?, error_msg = ?, ended_at = ? WHERE id = ?`)
      .run(
        state,
        outcome.result === undefined ? null : JSON.stringify(outcome.result),
        outcome.error?.code ?? null,
        outcome.error?.message ?? null,
        new Date().toISOString(),
        id,
      );
  }

  /** Jobs left running or queued by an app instance that is gone (crash, power loss). */
  unfinished(): JobRecord[] {
    return (this.db.prepare(`SELECT * FROM jobs WHERE state IN ('queued','running')`).all() as JobRow[]).map(toRecord);
  }
}
