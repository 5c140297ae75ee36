import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import path from 'node:path';
import { migrate, openCatalog, CATALOG_FILE } from '../../../main/catalog/db';
import { migrations } from '../../../main/catalog/migrations';
import { tempDir } from '../../helpers/temp';

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = tempDir()));
afterEach(() => cleanup());

describe('catalog', () => {
  it('creates a SQLite file with WAL, foreign keys and every migration applied', () => {
    const catalog = openCatalog(dir);
    expect(catalog.path).toBe(path.join(dir, CATALOG_FILE));
    expect(catalog.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(catalog.db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(catalog.schemaVersion()).toBe(Math.max(...migrations.map((m) => m.version)));
    expect(catalog.stats().counts).toHaveProperty('jobs', 0);
    catalog.close();
  });

  it('versions are unique and reopening applies nothing twice', () => {
    expect(new Set(migrations.map((m) => m.version)).size).toBe(migrations.length);
    openCatalog(dir).close();
    const again = openCatalog(dir);
    expect(again.schemaVersion()).toBe(Math.max(...migrations.map((m) => m.version)));
    again.close();
  });

  it('rolls a failing migration back entirely', () => {
    const db = new Database(':memory:');
    expect(() =>
      migrate(db, [
        { version: 1, name: 'ok', up: 'CREATE TABLE a (x INTEGER)' },
        { version: 2, name: 'broken', up: 'CREATE TABLE b (y INTEGER); THIS IS NOT SQL' },
      ]),
    ).toThrow();
    expect(db.pragma('user_version', { simple: true })).toBe(1);
    expect(db.prepare(`SELECT name FROM sqlite_master WHERE name = 'b'`).get()).toBeUndefined();
  });

  it('refuses a catalog written by a newer version of the app', () => {
    const db = new Database(path.join(dir, CATALOG_FILE));
    db.pragma('user_version = 999');
    db.close();
    expect(() => openCatalog(dir)).toThrow(/newer than this application supports/);
  });
});
