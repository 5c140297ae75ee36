import type { Database } from 'better-sqlite3';
import { Settings } from '../api/contract';

const DEFAULTS: Settings = { backend: 'auto', wasmThreads: 1 };

/** User settings, stored as JSON values in the catalog's `settings` table. */
export class SettingsStore {
  constructor(private readonly db: Database) {}

  get(): Settings {
    const rows = this.db.prepare(`SELECT key, value FROM settings`).all() as { key: string; value: string }[];
    const stored: Record<string, unknown> = {};
    for (const row of rows) stored[row.key] = JSON.parse(row.value) as unknown;
    const merged = Settings.safeParse({ ...DEFAULTS, ...stored });
    return merged.success ? merged.data : DEFAULTS;
  }

  update(patch: Partial<Settings>): Settings {
    const next = Settings.parse({ ...this.get(), ...patch });
    const upsert = this.db.prepare(`INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`);
    this.db.transaction(() => {
      for (const [key, value] of Object.entries(patch)) if (value !== undefined) upsert.run(key, JSON.stringify(value));
    })();
    return next;
  }
}
