import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCatalog, type Catalog } from '../../../main/catalog/db';
import { computeSplit, createSplit, getCurrentSplit, type SplitMember } from '../../../main/catalog/splits';
import { listTrainingItems } from '../../../main/catalog/items';
import { tempDir } from '../../helpers/temp';
import { syntheticDataset } from './synthetic';

function members(n: number, perPatient: number, labels = ['a', 'b']): SplitMember[] {
  return Array.from({ length: n }, (_, i) => ({ itemId: i + 1, group: `p${Math.floor(i / perPatient)}`, stratum: labels[Math.floor(i / perPatient) % labels.length]! }));
}

describe('computeSplit', () => {
  it('never puts one patient in two parts', () => {
    const m = members(1000, 7);
    const parts = computeSplit(m, { seed: 3, test: 0.2, val: 0.1 });
    const byPatient = new Map<string, Set<string>>();
    for (const x of m) {
      const set = byPatient.get(x.group) ?? new Set();
      set.add(parts.get(x.itemId)!);
      byPatient.set(x.group, set);
    }
    for (const set of byPatient.values()) expect(set.size).toBe(1);
  });

  it('hits the fractions closely, within each label (stratified)', () => {
    const m = members(3000, 5, ['benign', 'malignant', 'normal']);
    const parts = computeSplit(m, { seed: 11, test: 0.2, val: 0.1 });
    for (const label of ['benign', 'malignant', 'normal']) {
      const ids = m.filter((x) => x.stratum === label).map((x) => x.itemId);
      const count = (p: string): number => ids.filter((id) => parts.get(id) === p).length / ids.length;
      expect(Math.abs(count('test') - 0.2)).toBeLessThan(0.02);
      expect(Math.abs(count('val') - 0.1)).toBeLessThan(0.02);
      expect(Math.abs(count('train') - 0.7)).toBeLessThan(0.02);
    }
  });

  it('is reproducible for a seed and differs between seeds', () => {
    const m = members(500, 4);
    const a = computeSplit(m, { seed: 42, test: 0.2 });
    const b = computeSplit([...m].reverse(), { seed: 42, test: 0.2 });
    expect([...a.entries()].sort((x, y) => x[0] - y[0])).toEqual([...b.entries()].sort((x, y) => x[0] - y[0]));
    const c = computeSplit(m, { seed: 43, test: 0.2 });
    expect([...a.entries()].some(([id, p]) => c.get(id) !== p)).toBe(true);
    expect([...a.values()].includes('val')).toBe(false);
  });

  it('keeps identical images with their original, even across patient keys', () => {
    const m: SplitMember[] = members(200, 2);
    // Item 200 (patient p99) is a copy of item 1 (patient p0).
    m[199] = { ...m[199]!, sameAs: 1 };
    for (let seed = 0; seed < 20; seed++) {
      const parts = computeSplit(m, { seed, test: 0.3 });
      expect(parts.get(200)).toBe(parts.get(1));
      expect(parts.get(199)).toBe(parts.get(1)); // the rest of p99 follows
    }
  });

  it('rejects fractions that leave nothing to train on', () => {
    expect(() => computeSplit(members(10, 1), { seed: 1, test: 0.6, val: 0.5 })).toThrow();
  });
});

describe('createSplit on a catalog', () => {
  let catalog: Catalog;
  let cleanup: () => void;
  beforeAll(() => {
    const t = tempDir('usfm-split-');
    cleanup = t.cleanup;
    catalog = openCatalog(t.dir);
  });
  afterAll(() => {
    catalog.close();
    cleanup();
  });

  it('groups by pseudonymous patient, stratifies by class label, records counts, becomes current', () => {
    const ds = syntheticDataset(catalog.db, { items: 1200, itemsPerPatient: 12 });
    const s = createSplit(catalog.db, { datasetId: ds.id, seed: 5, test: 0.2, val: 0.1 });
    expect(s.stratify).toBe('class_label');
    expect(s.counts.train.items + s.counts.val.items + s.counts.test.items).toBe(1200);
    expect(s.counts.train.patients + s.counts.val.patients + s.counts.test.patients).toBe(100);
    expect(getCurrentSplit(catalog.db, ds.id)?.id).toBe(s.id);
    const test = listTrainingItems(catalog.db, { datasetId: ds.id, split: 'test', excludeDuplicates: false });
    const train = listTrainingItems(catalog.db, { datasetId: ds.id, split: 'train', excludeDuplicates: false });
    expect(test.length).toBe(s.counts.test.items);
    const trainPatients = new Set(train.map((t) => t.patientKey));
    for (const t of test) expect(trainPatients.has(t.patientKey)).toBe(false);
    const again = createSplit(catalog.db, { datasetId: ds.id, seed: 5, test: 0.2, val: 0.1 });
    expect(again.id).toBeGreaterThan(s.id);
    expect(again.counts).toEqual(s.counts);
  });
});
