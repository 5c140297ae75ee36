import type { Migration } from './types';

export const foundation: Migration = {
  version: 1,
  name: 'foundation: jobs, settings',
  up: `
    CREATE TABLE settings (
      key   TEXT PRIMARY KEY,
      value TEXT NOT NULL            -- JSON
    );
    CREATE TABLE jobs (
      id          TEXT PRIMARY KEY,
      kind        TEXT NOT NULL,
      title       TEXT NOT NULL,
      state       TEXT NOT NULL CHECK (state IN ('queued','running','succeeded','failed','cancelled','crashed','interrupted')),
      params      TEXT NOT NULL,     -- JSON
      progress    TEXT,              -- JSON, last progress event
      result      TEXT,              -- JSON
      error_code  TEXT,
      error_msg   TEXT,
      pid         INTEGER,
      created_at  TEXT NOT NULL,
      started_at  TEXT,
      ended_at    TEXT
    );
    CREATE INDEX jobs_created ON jobs(created_at DESC);
    CREATE INDEX jobs_kind_state ON jobs(kind, state);
  `,
};
