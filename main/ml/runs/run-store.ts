/** Training runs in the catalog's `runs` table: full configuration, dataset manifest, seed, backend, versions. */
import crypto from 'node:crypto';
import path from 'node:path';
import type { Database } from 'better-sqlite3';

export type RunState = 'created' | 'running' | 'stopped' | 'finished' | 'failed';

export interface RunRecord {
  id: string;
  jobId: string | null;
  kind: 'pretrain' | 'finetune' | 'linear-probe' | 'evaluate';
  recipe: string | null;
  config: Record<string, unknown>;
  datasetId: string | null;
  manifestHash: string | null;
  seed: number | null;
  backend: string | null;
  versions: Record<string, string>;
  state: RunState;
  step: number;
  totalSteps: number | null;
  bestLoss: number | null;
  /** Folder under the data directory (relative). */
  dir: string;
  metrics: Record<string, unknown> | null;
  createdAt: string;
  updatedAt: string;
}

interface RunRow {
  id: string;
  job_id: string | null;
  kind: RunRecord['kind'];
  recipe: string | null;
  config: string;
  dataset_id: string | null;
  manifest_hash: string | null;
  seed: number | null;
  backend: string | null;
  versions: string | null;
  state: RunState;
  step: number;
  total_steps: number | null;
  best_loss: number | null;
  dir: string;
  metrics: string | null;
  created_at: string;
  updated_at: string;
}

function toRecord(row: RunRow): RunRecord {
  return {
    id: row.id,
    jobId: row.job_id,
    kind: row.kind,
    recipe: row.recipe,
    config: JSON.parse(row.config) as Record<string, unknown>,
    datasetId: row.dataset_id,
    manifestHash: row.manifest_hash,
    seed: row.seed,
    backend: row.backend,
    versions: row.versions ? (JSON.parse(row.versions) as Record<string, string>) : {},
    state: row.state,
    step: row.step,
    totalSteps: row.total_steps,
    bestLoss: row.best_loss,
    dir: row.dir,
    metrics: row.metrics ? (JSON.parse(row.metrics) as Record<string, unknown>) : null,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export const RUN_ID_RE = /^run_[0-9a-z]{6,40}$/;

export function newRunId(): string {
  return `run_${Date.now().toString(36)}${crypto.randomBytes(4).toString('hex')}`;
}

export function runDirFor(id: string): string {
  return path.posix.join('runs', id);
}

export class RunStore {
  constructor(private readonly db: Database) {}

  create(run: Omit<RunRecord, 'createdAt' | 'updatedAt' | 'step' | 'bestLoss' | 'metrics' | 'state'> & { state?: RunState }): RunRecord {
    const now = new Date().toISOString();
    this.db
      .prepare(
        `INSERT INTO runs (id, job_id, kind, recipe, config, dataset_id, manifest_hash, seed, backend, versions, state, step, total_steps, dir, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?)`,
      )
      .run(
        run.id,
        run.jobId,
        run.kind,
        run.recipe,
        JSON.stringify(run.config),
        run.datasetId,
        run.manifestHash,
        run.seed,
        run.backend,
        JSON.stringify(run.versions),
        run.state ?? 'running',
        run.totalSteps,
        run.dir,
        now,
        now,
      );
    return this.get(run.id)!;
  }

  get(id: string): RunRecord | null {
    const row = this.db.prepare(`SELECT * FROM runs WHERE id = ?`).get(id) as RunRow | undefined;
    return row ? toRecord(row) : null;
  }

  list(filter: { kind?: RunRecord['kind']; limit: number }): RunRecord[] {
    const rows = filter.kind
      ? (this.db.prepare(`SELECT * FROM runs WHERE kind = ? ORDER BY created_at DESC, rowid DESC LIMIT ?`).all(filter.kind, filter.limit) as RunRow[])
      : (this.db.prepare(`SELECT * FROM runs ORDER BY created_at DESC, rowid DESC LIMIT ?`).all(filter.limit) as RunRow[]);
    return rows.map(toRecord);
  }

  update(id: string, patch: Partial<Pick<RunRecord, 'jobId' | 'state' | 'step' | 'totalSteps' | 'bestLoss' | 'metrics' | 'backend' | 'versions'>>): void {
    const sets: string[] = [];
    const args: unknown[] = [];
    const column: Record<string, string> = { jobId: 'job_id', state: 'state', step: 'step', totalSteps: 'total_steps', bestLoss: 'best_loss', metrics: 'metrics', backend: 'backend', versions: 'versions' };
    for (const [key, value] of Object.entries(patch)) {
      if (value === undefined) continue;
      sets.push(`${column[key]} = ?`);
      args.push(key === 'metrics' || key === 'versions' ? JSON.stringify(value) : value);
    }
    sets.push('updated_at = ?');
    args.push(new Date().toISOString());
    this.db.prepare(`UPDATE runs SET ${sets.join(', ')} WHERE id = ?`).run(...args, id);
  }
}
