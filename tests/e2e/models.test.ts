/**
 * Models view end to end: import a real (tiny) timm checkpoint through the import job, see it listed with
 * its details, export it to a path and find a safetensors file there; a bad path shows the call's error.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { launchBrowser, openPage, screenshot, serveApp, sharedRoot, type ServedApp } from './harness';
import { poll } from './poll';

const weightsFile = path.join(sharedRoot, 'reference', 'fixtures', 'vit_timm_weights.safetensors');
let server: ServedApp;
let browser: Browser;
let outDir: string;

beforeAll(async () => {
  outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'usfm-e2e-export-'));
  server = await serveApp({ samples: false });
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  fs.rmSync(outDir, { recursive: true, force: true });
});

describe('models view', () => {
  it('imports a weights file, shows it, and exports it to a path', async () => {
    const { page, errors } = await openPage(browser, server.url);
    await page.locator('[data-nav="models"]').click();
    await poll(() => page.getByTestId('empty').textContent()).toContain('No models yet');

    // A missing file is refused by the call itself, with its message.
    await page.getByTestId('weights-file').fill(path.join(outDir, 'missing.safetensors'));
    await page.getByTestId('weights-import').click();
    await poll(() => page.getByTestId('weights-import-form').getByRole('alert').textContent()).toContain('no such weights file');

    await page.getByTestId('weights-file').fill(weightsFile);
    await page.getByTestId('weights-name').fill('Tiny timm ViT');
    await page.getByTestId('weights-layout').selectOption('timm');
    await page.getByTestId('weights-import').click();
    await poll(() => page.getByTestId('job-status').getAttribute('data-state'), 60_000).toBe('succeeded');
    await poll(() => page.getByTestId('import-report').textContent()).toContain('timm');
    const row = page.locator('[data-model-id]').filter({ hasText: 'Tiny timm ViT' });
    await poll(() => row.count()).toBe(1);

    await row.getByRole('button', { name: 'Details' }).click();
    await poll(() => row.locator('.facts').textContent()).toMatch(/Tensors\d+/);

    const out = path.join(outDir, 'exported.safetensors');
    await row.getByTestId('model-export-open').click();
    await row.getByTestId('export-path').fill(out);
    await row.getByTestId('export-submit').click();
    await poll(() => row.getByTestId('export-result').textContent()).toMatch(/Wrote exported\.safetensors: \d+ tensors/);
    // A safetensors file: 8-byte little-endian header length, then a JSON header.
    const bytes = fs.readFileSync(out);
    const headerLength = Number(bytes.readBigUInt64LE(0));
    const header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString('utf8')) as Record<string, unknown>;
    expect(Object.keys(header).length).toBeGreaterThan(2);
    await screenshot(page, 'models');
    expect(errors).toEqual([]);
    await page.context().close();
  });
});
