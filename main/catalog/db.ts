import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { migrations as allMigrations, type Migration } from './migrations';

export const CATALOG_FILE = 'catalog.sqlite';

export interface Catalog {
  readonly db: Database.Database;
  readonly path: string;
  schemaVersion(): number;
  /** Row counts of the main tables, for `usfm info` and the Settings view. */
  stats(): { schemaVersion: number; counts: Record<string, number>; sizeBytes: number };
  close(): void;
}

export interface OpenCatalogOptions {
  readonly?: boolean;
  migrations?: Migration[];
}

/**
 * Open (creating if needed) the SQLite catalog in `dataDir`: WAL so job processes and the app
 * can read and write at once, foreign keys on, and every pending migration applied.
 */
export function openCatalog(dataDir: string, options: OpenCatalogOptions = {}): Catalog {
  fs.mkdirSync(dataDir, { recursive: true });
  const file = path.join(dataDir, CATALOG_FILE);
  const db = new Database(file, { readonly: options.readonly ?? false });
  db.pragma('busy_timeout = 10000');
  if (!options.readonly) {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
  }
  db.pragma('foreign_keys = ON');
  if (!options.readonly) migrate(db, options.migrations ?? allMigrations);

  const schemaVersion = (): number => db.pragma('user_version', { simple: true }) as number;
  return {
    db,
    path: file,
    schemaVersion,
    stats() {
      const tables = db
        .prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`)
        .all() as { name: string }[];
      const counts: Record<string, number> = {};
      for (const { name } of tables) {
        counts[name] = (db.prepare(`SELECT COUNT(*) AS n FROM "${name}"`).get() as { n: number }).n;
      }
      let sizeBytes = 0;
      for (const suffix of ['', '-wal']) {
        try {
          sizeBytes += fs.statSync(file + suffix).size;
        } catch {
          /* no WAL file yet */
        }
      }
      return { schemaVersion: schemaVersion(), counts, sizeBytes };
    },
    close() {
      if (db.open) db.close();
    },
  };
}

/** Apply migrations newer than `user_version`, each in its own transaction. */
export function migrate(db: Database.Database, migrations: Migration[]): void {
  const sorted = [...migrations].sort((a, b) => a.version - b.version);
  const current = db.pragma('user_version', { simple: true }) as number;
  const newest = sorted.at(-1)?.version ?? 0;
  if (current > newest) {
    throw new Error(`catalog schema version ${current} is newer than this application supports (${newest}); update the application`);
  }
  for (const m of sorted) {
    if (m.version <= current) continue;
    db.transaction(() => {
      if (typeof m.up === 'string') db.exec(m.up);
      else m.up(db);
      db.pragma(`user_version = ${m.version}`);
    }).immediate();
  }
}
