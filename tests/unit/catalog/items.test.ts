import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCatalog, type Catalog } from '../../../main/catalog/db';
import { assignLabels, itemIds, queryItems, type ItemFilter } from '../../../main/catalog/items';
import { createSplit } from '../../../main/catalog/splits';
import { addOrgan, listOrgans, removeOrgan, renameOrgan, resolveOrgan, TaxonomyError } from '../../../main/catalog/labels';
import { createDataset, DatasetNameTaken, deleteDataset, getOrCreateDataset, listDatasets, renameDataset } from '../../../main/catalog/datasets';
import { tempDir } from '../../helpers/temp';
import { syntheticDataset } from './synthetic';

let catalog: Catalog;
let cleanup: () => void;
let datasetId: string;

beforeAll(() => {
  const t = tempDir('usfm-items-');
  cleanup = t.cleanup;
  catalog = openCatalog(t.dir);
  datasetId = syntheticDataset(catalog.db, { items: 2000, maskEvery: 7 }).id;
});
afterAll(() => {
  catalog.close();
  cleanup();
});

function all(filter: ItemFilter): number[] {
  return itemIds(catalog.db, filter);
}

describe('item queries', () => {
  it('pages through every item once, in id order, with keyset cursors', () => {
    const seen: number[] = [];
    let afterId: number | undefined;
    for (;;) {
      const page = queryItems(catalog.db, { datasetId }, { limit: 300, afterId });
      expect(page.total).toBe(2000);
      seen.push(...page.items.map((i) => i.id));
      if (page.nextCursor === null) break;
      afterId = page.nextCursor;
    }
    expect(seen.length).toBe(2000);
    expect([...seen].sort((a, b) => a - b)).toEqual(seen);
    expect(new Set(seen).size).toBe(2000);
  });

  it('filters by organ, class, mask, flags and path, and counts the matches', () => {
    const page = queryItems(catalog.db, { datasetId, organ: 'liver', classLabel: 'malignant', hasMask: true }, { limit: 50 });
    expect(page.total).toBeGreaterThan(0);
    for (const i of page.items) expect([i.organ, i.classLabel, i.hasMask]).toEqual(['liver', 'malignant', true]);
    const expected = catalog.db
      .prepare(`SELECT COUNT(*) AS n FROM items WHERE dataset_id = ? AND organ = 'liver' AND class_label = 'malignant' AND has_mask = 1`)
      .get(datasetId) as { n: number };
    expect(page.total).toBe(expected.n);
    const near = all({ datasetId, nearDuplicates: 'only' });
    const notNear = all({ datasetId, nearDuplicates: 'exclude' });
    expect(near.length + notNear.length).toBe(2000);
    expect(near.length).toBeGreaterThan(0);
    const s3 = queryItems(catalog.db, { datasetId, pathContains: 's3.dcm' }, { limit: 100 });
    expect(s3.items.map((i) => i.frameIndex)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(queryItems(catalog.db, { datasetId, pathContains: '%' }, { limit: 10 }).total).toBe(0);
  });

  it('filters by part of the current split, and by unassigned items', () => {
    expect(all({ datasetId, split: 'train' })).toEqual([]);
    expect(all({ datasetId, split: 'unassigned' }).length).toBe(2000);
    createSplit(catalog.db, { datasetId, seed: 1, test: 0.2, val: 0.1 });
    const train = all({ datasetId, split: 'train' });
    const val = all({ datasetId, split: 'val' });
    const test = all({ datasetId, split: 'test' });
    expect(train.length + val.length + test.length).toBe(2000);
    expect(all({ datasetId, split: 'unassigned' })).toEqual([]);
    const page = queryItems(catalog.db, { datasetId, split: 'test' }, { limit: 5 });
    for (const i of page.items) expect(i.split).toBe('test');
  });

  it('assigns organs and class labels in bulk, and clears them', () => {
    const ids = all({ datasetId, organ: 'kidney' }).slice(0, 25);
    expect(assignLabels(catalog.db, ids, { organ: 'thyroid', classLabel: 'relabelled' })).toBe(25);
    const page = queryItems(catalog.db, { datasetId, classLabel: 'relabelled' }, { limit: 100 });
    expect(page.total).toBe(25);
    for (const i of page.items) expect(i.organ).toBe('thyroid');
    expect(assignLabels(catalog.db, ids, { classLabel: null })).toBe(25);
    expect(queryItems(catalog.db, { datasetId, classLabel: 'relabelled' }, { limit: 1 }).total).toBe(0);
    expect(queryItems(catalog.db, { datasetId, classLabel: null }, { limit: 1 }).total).toBe(25);
    // A foreign key keeps unknown organs out.
    expect(() => assignLabels(catalog.db, ids, { organ: 'no-such-organ' })).toThrow();
  });
});

describe('organ taxonomy', () => {
  it('starts with 15 organs and can be edited; removing one unlabels its items', () => {
    const organs = listOrgans(catalog.db);
    expect(organs.length).toBe(15);
    expect(organs.map((o) => o.id)).toEqual(expect.arrayContaining(['thyroid', 'breast', 'liver', 'kidney', 'heart', 'fetal-head']));
    const added = addOrgan(catalog.db, 'Abdominal aorta');
    expect(added.id).toBe('abdominal-aorta');
    expect(() => addOrgan(catalog.db, 'abdominal AORTA')).toThrow(TaxonomyError);
    expect(renameOrgan(catalog.db, 'abdominal-aorta', 'Aorta').name).toBe('Aorta');
    expect(resolveOrgan(catalog.db, 'aorta')?.id).toBe('abdominal-aorta');
    const heart = all({ datasetId, organ: 'heart' }).length;
    expect(heart).toBeGreaterThan(0);
    expect(removeOrgan(catalog.db, 'heart')).toEqual({ unlabelled: heart });
    expect(all({ datasetId, organ: 'heart' })).toEqual([]);
    expect(() => removeOrgan(catalog.db, 'heart')).toThrow(TaxonomyError);
  });
});

describe('datasets', () => {
  it('names are unique (case-insensitive); summaries count items; delete cascades', () => {
    const a = createDataset(catalog.db, 'Thyroid study');
    expect(() => createDataset(catalog.db, 'thyroid STUDY')).toThrow(DatasetNameTaken);
    expect(getOrCreateDataset(catalog.db, 'THYROID study').id).toBe(a.id);
    expect(renameDataset(catalog.db, a.id, 'Thyroid 2024').name).toBe('Thyroid 2024');
    const summary = listDatasets(catalog.db).find((d) => d.id === datasetId)!;
    expect(summary.items).toBe(2000);
    expect(summary.patients).toBe(100);
    expect(summary.classLabels.map((c) => c.label)).toEqual(expect.arrayContaining(['benign', 'malignant', 'normal']));
    const other = syntheticDataset(catalog.db, { items: 30, name: 'to delete' });
    expect(deleteDataset(catalog.db, other.id)).toBe(true);
    expect(catalog.db.prepare(`SELECT COUNT(*) AS n FROM items WHERE dataset_id = ?`).get(other.id)).toEqual({ n: 0 });
    expect(catalog.db.prepare(`SELECT COUNT(*) AS n FROM sources WHERE dataset_id = ?`).get(other.id)).toEqual({ n: 0 });
  });
});
