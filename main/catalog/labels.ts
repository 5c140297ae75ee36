/** The editable organ taxonomy. Items reference an organ by its stable id (a slug); renaming keeps it. */
import type { Database } from 'better-sqlite3';

export interface Organ {
  id: string;
  name: string;
  position: number;
  items: number;
}

export function listOrgans(db: Database): Organ[] {
  return db
    .prepare(
      `SELECT o.id, o.name, o.position, (SELECT COUNT(*) FROM items i WHERE i.organ = o.id) AS items
       FROM organs o ORDER BY o.position, o.name`,
    )
    .all() as Organ[];
}

export function getOrgan(db: Database, id: string): Organ | null {
  return listOrgans(db).find((o) => o.id === id) ?? null;
}

/** Find an organ by id or (case-insensitive) name. */
export function resolveOrgan(db: Database, idOrName: string): Organ | null {
  const key = idOrName.trim().toLowerCase();
  return listOrgans(db).find((o) => o.id === key || o.name.toLowerCase() === key) ?? null;
}

export function slugify(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 48);
}

export class TaxonomyError extends Error {
  constructor(
    readonly code: 'CONFLICT' | 'NOT_FOUND' | 'BAD_INPUT',
    message: string,
  ) {
    super(message);
    this.name = 'TaxonomyError';
  }
}

export function addOrgan(db: Database, name: string): Organ {
  const trimmed = name.trim();
  const id = slugify(trimmed);
  if (!id) throw new TaxonomyError('BAD_INPUT', 'an organ needs a name with letters or digits');
  return db.transaction(() => {
    if (db.prepare(`SELECT 1 FROM organs WHERE id = ? OR name = ? COLLATE NOCASE`).get(id, trimmed)) {
      throw new TaxonomyError('CONFLICT', `the taxonomy already has "${trimmed}"`);
    }
    const position = (db.prepare(`SELECT COALESCE(MAX(position), -1) + 1 AS p FROM organs`).get() as { p: number }).p;
    db.prepare(`INSERT INTO organs (id, name, position, created_at) VALUES (?, ?, ?, ?)`).run(id, trimmed, position, new Date().toISOString());
    return getOrgan(db, id)!;
  })();
}

export function renameOrgan(db: Database, id: string, name: string): Organ {
  const trimmed = name.trim();
  if (!trimmed) throw new TaxonomyError('BAD_INPUT', 'an organ needs a name');
  return db.transaction(() => {
    if (!db.prepare(`SELECT 1 FROM organs WHERE id = ?`).get(id)) throw new TaxonomyError('NOT_FOUND', `no organ "${id}"`);
    if (db.prepare(`SELECT 1 FROM organs WHERE name = ? COLLATE NOCASE AND id <> ?`).get(trimmed, id)) {
      throw new TaxonomyError('CONFLICT', `the taxonomy already has "${trimmed}"`);
    }
    db.prepare(`UPDATE organs SET name = ? WHERE id = ?`).run(trimmed, id);
    return getOrgan(db, id)!;
  })();
}

/** Remove an organ; items labelled with it become unlabelled (foreign key ON DELETE SET NULL). */
export function removeOrgan(db: Database, id: string): { unlabelled: number } {
  return db.transaction(() => {
    const unlabelled = (db.prepare(`SELECT COUNT(*) AS n FROM items WHERE organ = ?`).get(id) as { n: number }).n;
    if (db.prepare(`DELETE FROM organs WHERE id = ?`).run(id).changes === 0) throw new TaxonomyError('NOT_FOUND', `no organ "${id}"`);
    return { unlabelled };
  })();
}

/** Put the organs in this order (ids not listed keep their relative order after the listed ones). */
export function reorderOrgans(db: Database, ids: string[]): Organ[] {
  db.transaction(() => {
    const all = listOrgans(db).map((o) => o.id);
    const order = [...ids.filter((id) => all.includes(id)), ...all.filter((id) => !ids.includes(id))];
    const update = db.prepare(`UPDATE organs SET position = ? WHERE id = ?`);
    order.forEach((id, i) => update.run(i, id));
  })();
  return listOrgans(db);
}
