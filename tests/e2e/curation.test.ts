/**
 * Curation end to end on real files: the first-run sample dataset (BUSI PNGs with masks), the import wizard
 * (DICOM, broken files among them), the item browser with filters, selection and bulk labels, the item
 * viewer with its cone and mask overlays and cone correction, the organ taxonomy and a seeded split.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, openPage, screenshot, serveApp, sharedRoot, type ServedApp } from './harness';
import { poll } from './poll';
import { tempDir } from '../helpers/temp';

const BUSI = 'Sample (BUSI)';
let server: ServedApp;
let browser: Browser;
let page: Page;
let errors: string[];

beforeAll(async () => {
  server = await serveApp();
  browser = await launchBrowser();
  ({ page, errors } = await openPage(browser, server.url));
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

async function importPaths(paths: string[], datasetName: string, stride: number): Promise<void> {
  await page.locator('[data-nav="datasets"]').click();
  await page.getByTestId('open-import').click();
  const wizard = page.getByTestId('import-wizard');
  await wizard.getByTestId('import-paths').fill(paths.join('\n'));
  await wizard.locator('input[type="radio"][value="new"]').check();
  await wizard.getByTestId('import-dataset-name').fill(datasetName);
  await wizard.getByTestId('import-stride').fill(String(stride));
  await wizard.getByTestId('import-start').click();
  await poll(() => wizard.getByTestId('job-status').getAttribute('data-state'), 90_000).toBe('succeeded');
  await wizard.getByTestId('import-summary').waitFor();
}

/** Brightness and cone-outline statistics of the viewer's canvas, read from its pixels. */
async function canvasStats(): Promise<{ lit: number; outline: number; mask: number; total: number }> {
  return (await page.evaluate(`(() => {
    const c = document.querySelector('[data-testid="frame-canvas"]');
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let lit = 0, outline = 0, mask = 0;
    for (let i = 0; i < d.length; i += 4) {
      const [r, g, b] = [d[i], d[i + 1], d[i + 2]];
      if (r + g + b > 60) lit++;
      if (Math.abs(r - 63) < 25 && Math.abs(g - 167) < 25 && Math.abs(b - 214) < 25) outline++;
      if (r > g + 40 && r > b + 10) mask++;
    }
    return { lit, outline, mask, total: d.length / 4 };
  })()`)) as { lit: number; outline: number; mask: number; total: number };
}

describe('curation', () => {
  it('shows the first-run sample dataset with its counts', async () => {
    await page.locator('[data-nav="datasets"]').click();
    const card = page.locator(`[data-testid="dataset-card"][data-dataset-name="${BUSI}"]`);
    // Imported in the background at first start; the running import is shown meanwhile.
    await poll(() => card.getByTestId('dataset-items').textContent(), 90_000).toBe('12');
    await poll(() => card.getByTestId('dataset-with-mask').textContent()).toBe('12');
    await poll(() => card.textContent()).toMatch(/benign 4.*malignant 4.*normal 4/);
    await screenshot(page, 'curation-datasets');
  });

  it('lists the files it could not import, by file and cause', async () => {
    const dicom = path.join(sharedRoot, 'data', 'dicom');
    await importPaths([path.join(dicom, 'ultrasound', 'pydicom'), path.join(dicom, 'broken', 'pydicom')], 'DICOM mix', 5);
    // Progress was reported file by file up to the end.
    await poll(() => page.getByTestId('import-wizard').locator('.progress .label').textContent()).toMatch(/importing · 12\/12/);
    const summary = page.getByTestId('import-summary');
    const rows = summary.getByTestId('import-errors').locator('li');
    await poll(() => rows.count()).toBeGreaterThan(2);
    const text = (await rows.allTextContents()).join('\n');
    expect(text).toContain('MR_truncated.dcm');
    expect(text).toContain('no_meta.dcm');
    // Each row names a cause code and a message, never an absolute path.
    for (const row of await rows.all()) expect(await row.getAttribute('data-code')).toMatch(/^[A-Z_]+$/);
    expect(text).not.toContain(sharedRoot);
    // The 30-frame cine loop with stride 5 gives 6 items beside the single frames.
    expect(Number(await summary.locator('[data-fact="Items"]').textContent())).toBeGreaterThanOrEqual(6);
    await screenshot(page, 'curation-import-errors');
  });

  it('browses items with thumbnails, filters them and labels a selection', async () => {
    const card = page.locator(`[data-testid="dataset-card"][data-dataset-name="${BUSI}"]`);
    await card.getByTestId('dataset-browse').click();
    const thumbs = page.getByTestId('item-thumb');
    await poll(() => thumbs.count()).toBe(12);
    // Every thumbnail is a decoded image.
    await poll(() => page.evaluate(`[...document.querySelectorAll('[data-testid="item-thumb"] img')].filter((i) => i.complete && i.naturalWidth > 0).length`)).toBe(12);

    await page.getByTestId('filter-class').selectOption('malignant');
    await poll(() => thumbs.count()).toBe(4);
    await page.getByTestId('filter-mask').selectOption('false');
    await poll(() => page.getByTestId('empty').textContent()).toContain('No items match');
    await page.getByTestId('filter-mask').selectOption('true');
    await poll(() => thumbs.count()).toBe(4);

    await thumbs.nth(0).getByTestId('item-select').check();
    await thumbs.nth(1).getByTestId('item-select').check();
    const bar = page.getByTestId('bulk-label');
    await poll(() => bar.textContent()).toContain('2 selected');
    await bar.getByTestId('bulk-organ').selectOption({ label: 'organ: Thyroid' });
    await bar.getByTestId('bulk-class').fill('reviewed');
    await bar.getByTestId('bulk-apply').click();
    await poll(() => bar.getByTestId('bulk-result').textContent()).toBe('2 items updated');
    await screenshot(page, 'curation-items');

    await page.getByTestId('filter-class').selectOption('');
    await page.getByTestId('filter-organ').selectOption({ label: 'Thyroid' });
    await poll(() => thumbs.count()).toBe(2);
    for (const t of await thumbs.all()) expect(await t.textContent()).toContain('reviewed');
    await page.getByTestId('filter-organ').selectOption('');
    await poll(() => thumbs.count()).toBe(12);
  });

  it('shows an item with its cone and mask overlays and saves a corrected cone', async () => {
    // A benign lesion (normal BUSI images have empty masks; malignant ones were relabelled above).
    await page.locator('[data-testid=item-thumb][data-class=benign]').first().locator('.thumb-open').click();
    const viewer = page.getByTestId('item-viewer');
    await viewer.waitFor();
    const canvas = page.getByTestId('frame-canvas');
    await poll(() => canvas.getAttribute('data-cone')).toMatch(/^(sector|rectangle)$/);
    await poll(() => page.getByTestId('cone-origin').getAttribute('data-origin')).toBe('auto');
    // The frame is drawn, the cone outline and the lesion mask are overlaid.
    await poll(async () => (await canvasStats()).lit).toBeGreaterThan(1000);
    await poll(async () => (await canvasStats()).mask).toBeGreaterThan(200);
    const withMask = await canvasStats();
    expect(withMask.outline).toBeGreaterThan(100);
    expect(withMask.mask).toBeGreaterThan(200);
    await page.getByTestId('toggle-mask').uncheck();
    await poll(async () => (await canvasStats()).mask).toBeLessThan(withMask.mask / 4);
    await screenshot(page, 'curation-viewer');

    // Correct the cone: a rectangle, its top-left corner dragged 40 px right and 30 px down.
    await page.getByTestId('cone-edit').click();
    await page.getByTestId('cone-shape-rectangle').check();
    const handles = JSON.parse((await canvas.getAttribute('data-handles'))!) as Array<{ id: string; x: number; y: number }>;
    const tl = handles.find((h) => h.id === 'tl')!;
    const box = (await canvas.boundingBox())!;
    await page.mouse.move(box.x + tl.x, box.y + tl.y);
    await page.mouse.down();
    await page.mouse.move(box.x + tl.x + 20, box.y + tl.y + 15, { steps: 4 });
    await page.mouse.move(box.x + tl.x + 40, box.y + tl.y + 30, { steps: 4 });
    await page.mouse.up();
    const left = Number(await viewer.locator('input[data-field="x0"]').inputValue());
    const top = Number(await viewer.locator('input[data-field="y0"]').inputValue());
    expect(left).toBeGreaterThan(5);
    expect(top).toBeGreaterThan(5);
    await screenshot(page, 'curation-cone-edit');
    await page.getByTestId('cone-save').click();
    await poll(() => page.getByTestId('cone-saved').textContent()).toMatch(/Cone saved for 1 frame/);
    await poll(() => page.getByTestId('cone-origin').getAttribute('data-origin')).toBe('corrected');

    // Saved in the catalog: a reload shows the corrected cone with the dragged corner.
    await page.reload();
    await poll(() => page.getByTestId('cone-origin').getAttribute('data-origin')).toBe('corrected');
    await page.getByTestId('cone-edit').click();
    expect(Math.abs(Number(await viewer.locator('input[data-field="x0"]').inputValue()) - left)).toBeLessThan(0.2);
    await viewer.getByRole('button', { name: 'Cancel' }).click();
    await page.getByTestId('cone-reset').click();
    await poll(() => page.getByTestId('cone-origin').getAttribute('data-origin')).toBe('auto');
    await page.getByTestId('viewer-back').click();
    await poll(() => page.getByTestId('item-thumb').count()).toBe(12);
  });

  it('edits the organ taxonomy', async () => {
    await page.locator('[data-nav="labels"]').click();
    await page.getByTestId('organ-new').fill('Appendix');
    await page.getByTestId('organ-add').click();
    const row = page.locator('[data-organ-id="appendix"]');
    await poll(() => row.getByTestId('organ-name').textContent()).toBe('Appendix');
    await row.getByRole('button', { name: 'Rename' }).click();
    await row.getByTestId('organ-rename-input').fill('Vermiform appendix');
    await row.getByRole('button', { name: 'Save' }).click();
    await poll(() => row.getByTestId('organ-name').textContent()).toBe('Vermiform appendix');
    // A duplicate name is refused with the call's message.
    await page.getByTestId('organ-new').fill('Vermiform appendix');
    await page.getByTestId('organ-add').click();
    await poll(() => page.getByRole('alert').first().textContent()).toMatch(/\S/);
    await screenshot(page, 'curation-labels');
  });

  it('creates a seeded split and shows the per-part counts', async () => {
    await page.locator('[data-nav="splits"]').click();
    await page.getByTestId('dataset-select').selectOption({ label: `${BUSI} (12)` });
    await page.getByTestId('split-seed').fill('7');
    await page.getByTestId('split-test').fill('25');
    await page.getByTestId('split-val').fill('0');
    await page.getByTestId('split-create').click();
    const result = page.getByTestId('split-result');
    await poll(() => result.textContent()).toContain('Seed 7');
    const count = async (part: string): Promise<number> => Number(await result.locator(`[data-part="${part}"] [data-testid="part-items"]`).textContent());
    const [train, val, test] = [await count('train'), await count('val'), await count('test')];
    expect(train + val + test).toBe(12);
    expect(val).toBe(0);
    expect(test).toBeGreaterThanOrEqual(2);
    expect(train).toBeGreaterThan(test);
    await screenshot(page, 'curation-splits');
    expect(errors).toEqual([]);
  });

  it('exports the dataset for PyTorch into a chosen folder, and names the problem with a folder in use', async () => {
    const out = tempDir('usfm-e2e-export-');
    try {
      await page.locator('[data-nav="datasets"]').click();
      const card = page.locator(`[data-testid="dataset-card"][data-dataset-name="${BUSI}"]`);
      await card.getByTestId('dataset-export').click();
      const form = card.getByTestId('export-form');
      await form.getByTestId('export-dir').fill(out.dir); // exists and is empty: accepted
      await form.getByTestId('export-start').click();
      await poll(() => form.getByTestId('job-status').getAttribute('data-state'), 90_000).toBe('succeeded');
      const manifest = JSON.parse(fs.readFileSync(path.join(out.dir, 'manifest.json'), 'utf8')) as { items: unknown[]; parts: Record<string, number> };
      expect(manifest.items).toHaveLength(12);
      expect(manifest.parts.train! + manifest.parts.test!).toBe(12); // the seeded split made above
      expect(fs.existsSync(path.join(out.dir, 'mae', 'train'))).toBe(true);
      // The same folder again: refused at once, with the reason, and no job.
      await form.getByTestId('export-start').click();
      await poll(() => card.getByRole('alert').textContent()).toMatch(/exists and is not an empty folder/);
      expect(errors).toEqual([]);
    } finally {
      out.cleanup();
    }
  });
});
