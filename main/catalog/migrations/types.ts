import type { Database } from 'better-sqlite3';

/** A forward-only schema step. `up` runs inside one transaction with the version bump. */
export interface Migration {
  version: number;
  name: string;
  up: string | ((db: Database) => void);
}
