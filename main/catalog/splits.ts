/**
 * Seeded train/validation/test splits, grouped by pseudonymous patient (items with identical pixels join
 * their original's group) so that no patient falls in two parts, and stratified by label where possible.
 */
import type { Database } from 'better-sqlite3';
import type { SplitPart } from './items';

export type Stratify = 'auto' | 'class_label' | 'organ' | 'none';

export interface SplitMember {
  itemId: number;
  group: string;
  /** Items with identical pixels: kept in the same part as this item. */
  sameAs?: number | null;
  stratum?: string | null;
}

export interface SplitOptions {
  seed: number;
  /** Fractions of items; train gets the rest. */
  test: number;
  val?: number;
}

/** mulberry32: small, fast, seedable; the same seed gives the same split on every platform. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function hashString(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

/** Assign every member to a part. Pure and deterministic for a given member list and options. */
export function computeSplit(members: readonly SplitMember[], options: SplitOptions): Map<number, SplitPart> {
  const val = options.val ?? 0;
  if (!(options.test >= 0 && val >= 0 && options.test + val < 1)) throw new Error('test and val fractions must be >= 0 and sum to less than 1');
  // Union-find over groups: patients, joined by identical-pixel links.
  const parent = new Map<string, string>();
  const find = (g: string): string => {
    let root = g;
    while (parent.get(root) !== root) root = parent.get(root)!;
    let cur = g;
    while (cur !== root) {
      const next = parent.get(cur)!;
      parent.set(cur, root);
      cur = next;
    }
    return root;
  };
  for (const m of members) if (!parent.has(m.group)) parent.set(m.group, m.group);
  const groupOfItem = new Map(members.map((m) => [m.itemId, m.group]));
  for (const m of members) {
    if (m.sameAs == null) continue;
    const other = groupOfItem.get(m.sameAs);
    if (other === undefined) continue;
    const a = find(m.group);
    const b = find(other);
    if (a !== b) parent.set(a < b ? b : a, a < b ? a : b);
  }
  const groups = new Map<string, { items: number[]; labels: Map<string, number> }>();
  for (const m of [...members].sort((p, q) => p.itemId - q.itemId)) {
    const root = find(m.group);
    let g = groups.get(root);
    if (!g) groups.set(root, (g = { items: [], labels: new Map() }));
    g.items.push(m.itemId);
    const label = m.stratum ?? '';
    g.labels.set(label, (g.labels.get(label) ?? 0) + 1);
  }
  // Each group belongs to the stratum of its most common label.
  const strata = new Map<string, { key: string; items: number[] }[]>();
  for (const [key, g] of groups) {
    const label = [...g.labels.entries()].sort((p, q) => q[1] - p[1] || (p[0] < q[0] ? -1 : 1))[0]![0];
    const list = strata.get(label) ?? [];
    list.push({ key, items: g.items });
    strata.set(label, list);
  }
  const targets: [SplitPart, number][] = [
    ['test', options.test],
    ['val', val],
    ['train', 1 - options.test - val],
  ];
  const out = new Map<number, SplitPart>();
  for (const label of [...strata.keys()].sort()) {
    const list = strata.get(label)!.sort((p, q) => (p.key < q.key ? -1 : p.key > q.key ? 1 : 0));
    const random = seededRandom(options.seed ^ hashString(label));
    for (let i = list.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [list[i], list[j]] = [list[j]!, list[i]!];
    }
    // Big groups first (stable, so equal sizes keep the shuffled order): the greedy fill stays close to target.
    list.sort((p, q) => q.items.length - p.items.length);
    const total = list.reduce((n, g) => n + g.items.length, 0);
    const assigned = new Map<SplitPart, number>(targets.map(([p]) => [p, 0]));
    for (const g of list) {
      let best: SplitPart = 'train';
      let bestDeficit = -Infinity;
      for (const [part, fraction] of targets) {
        if (fraction <= 0) continue;
        const deficit = (fraction * total - assigned.get(part)!) / (fraction * total);
        if (deficit > bestDeficit) {
          bestDeficit = deficit;
          best = part;
        }
      }
      assigned.set(best, assigned.get(best)! + g.items.length);
      for (const id of g.items) out.set(id, best);
    }
  }
  return out;
}

export interface SplitCounts {
  items: number;
  patients: number;
}

export interface SplitSummary {
  id: number;
  datasetId: string;
  seed: number;
  test: number;
  val: number;
  stratify: 'class_label' | 'organ' | null;
  counts: Record<SplitPart, SplitCounts>;
  createdAt: string;
}

interface SplitRow {
  id: number;
  dataset_id: string;
  seed: number;
  test_fraction: number;
  val_fraction: number;
  stratify: 'class_label' | 'organ' | null;
  counts: string;
  created_at: string;
}

const toSummary = (r: SplitRow): SplitSummary => ({
  id: r.id,
  datasetId: r.dataset_id,
  seed: r.seed,
  test: r.test_fraction,
  val: r.val_fraction,
  stratify: r.stratify,
  counts: JSON.parse(r.counts) as Record<SplitPart, SplitCounts>,
  createdAt: r.created_at,
});

/** Split the dataset's items (exact duplicates follow their original) and make it the current split. */
export function createSplit(db: Database, o: { datasetId: string; seed: number; test: number; val?: number; stratify?: Stratify }): SplitSummary {
  const rows = db
    .prepare(`SELECT id, patient_key, duplicate_of, class_label, organ FROM items WHERE dataset_id = ? ORDER BY id`)
    .all(o.datasetId) as { id: number; patient_key: string; duplicate_of: number | null; class_label: string | null; organ: string | null }[];
  let stratify: 'class_label' | 'organ' | null = null;
  if (o.stratify === 'class_label' || o.stratify === 'organ') stratify = o.stratify;
  else if ((o.stratify ?? 'auto') === 'auto') {
    if (rows.some((r) => r.class_label !== null)) stratify = 'class_label';
    else if (new Set(rows.map((r) => r.organ).filter((v) => v !== null)).size > 1) stratify = 'organ';
  }
  const members: SplitMember[] = rows.map((r) => ({
    itemId: r.id,
    group: r.patient_key,
    sameAs: r.duplicate_of,
    stratum: stratify ? (r[stratify] ?? null) : null,
  }));
  const parts = computeSplit(members, { seed: o.seed, test: o.test, val: o.val ?? 0 });
  const counts: Record<SplitPart, SplitCounts> = { train: { items: 0, patients: 0 }, val: { items: 0, patients: 0 }, test: { items: 0, patients: 0 } };
  const patients: Record<SplitPart, Set<string>> = { train: new Set(), val: new Set(), test: new Set() };
  for (const r of rows) {
    const part = parts.get(r.id)!;
    counts[part].items++;
    patients[part].add(r.patient_key);
  }
  for (const p of ['train', 'val', 'test'] as const) counts[p].patients = patients[p].size;
  return db.transaction(() => {
    const info = db
      .prepare(`INSERT INTO splits (dataset_id, seed, test_fraction, val_fraction, stratify, counts, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`)
      .run(o.datasetId, o.seed, o.test, o.val ?? 0, stratify, JSON.stringify(counts), new Date().toISOString());
    const splitId = Number(info.lastInsertRowid);
    const insert = db.prepare(`INSERT INTO split_items (split_id, item_id, part) VALUES (?, ?, ?)`);
    for (const [itemId, part] of parts) insert.run(splitId, itemId, part);
    // The current split, denormalised onto the items for fast filtered queries.
    db.prepare(`UPDATE items SET split_part = (SELECT part FROM split_items WHERE split_id = ? AND item_id = items.id) WHERE dataset_id = ?`).run(splitId, o.datasetId);
    return getSplit(db, splitId)!;
  })();
}

export function getSplit(db: Database, id: number): SplitSummary | null {
  const row = db.prepare(`SELECT * FROM splits WHERE id = ?`).get(id) as SplitRow | undefined;
  return row ? toSummary(row) : null;
}

export function getCurrentSplit(db: Database, datasetId: string): SplitSummary | null {
  const row = db.prepare(`SELECT * FROM splits WHERE dataset_id = ? ORDER BY id DESC LIMIT 1`).get(datasetId) as SplitRow | undefined;
  return row ? toSummary(row) : null;
}
