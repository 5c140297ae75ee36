import type { Database, Statement } from 'better-sqlite3';

const cache = new WeakMap<Database, Map<string, Statement>>();

/**
 * A prepared statement, prepared once per connection. Hot paths (an import records tens of thousands of
 * files) must not prepare per call: each statement holds native memory the JS garbage collector does not
 * see, so resident memory would grow with every file.
 */
export function prepared(db: Database, sql: string): Statement {
  let map = cache.get(db);
  if (!map) cache.set(db, (map = new Map()));
  let stmt = map.get(sql);
  if (!stmt) map.set(sql, (stmt = db.prepare(sql)));
  return stmt;
}
