/**
 * Pretraining end to end with tiny settings: the wizard starts a real MAE run on the sample BUSI images,
 * the monitor shows live loss curves and statistics, stopping checkpoints the run, resuming continues it
 * to the end, the reconstruction preview appears, and the pretrained model is registered.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, openPage, screenshot, serveApp, type ServedApp } from './harness';
import { poll } from './poll';

const DATASET = 'Sample (BUSI)';
const STEPS = 10;
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

async function fillWizard(batch: number): Promise<void> {
  await page.locator('[data-nav="pretrain"]').click();
  const form = page.getByTestId('pretrain-form');
  await form.getByTestId('pretrain-dataset').selectOption({ label: `${DATASET} — 12 items` });
  await form.locator('[data-testid="pretrain-recipe"] label:has(input[data-value="mae"])').click();
  await form.locator('[data-testid="pretrain-size"] label:has(input[data-value="tiny"])').click();
  await form.getByTestId('pretrain-img').selectOption('112');
  await form.getByTestId('pretrain-length-unit').selectOption('steps');
  await form.getByTestId('pretrain-length').fill(String(STEPS));
  await form.getByTestId('pretrain-batch').fill(String(batch));
  await form.getByTestId('pretrain-seed').fill('3');
  if ((await form.locator('details').getAttribute('open')) === null) await form.locator('details summary').click();
  await form.getByTestId('pretrain-preview-every').fill('2');
}

describe('pretraining', () => {
  it('has the first-run sample dataset to train on', async () => {
    await page.locator('[data-nav="datasets"]').click();
    const card = page.locator(`[data-testid="dataset-card"][data-dataset-name="${DATASET}"]`);
    await poll(() => card.getByTestId('dataset-items').textContent(), 90_000).toBe('12');
  });

  it('shows the error of a refused request in the wizard', async () => {
    await fillWizard(100_000);
    await page.getByTestId('pretrain-start').click();
    await poll(() => page.getByTestId('pretrain-error').textContent()).toMatch(/^invalid input for pretrain\.start: batch: .*65536/);
  });

  it('runs, stops with a checkpoint, resumes and finishes, with live curves and previews', async () => {
    await fillWizard(2);
    await page.getByTestId('pretrain-start').click();
    const monitor = page.getByTestId('run-monitor');
    await monitor.waitFor();
    expect(page.url()).toMatch(/#\/runs\/run_[0-9a-z]+$/);
    const step = async (): Promise<number> => Number(/^(\d+)/.exec((await page.getByTestId('run-step').textContent()) ?? '')?.[1] ?? 0);

    // Live: the first step's loss, rate, tensor count, and a loss curve with a point per term.
    await poll(step, 120_000).toBeGreaterThanOrEqual(1);
    await screenshot(page, 'pretrain-live');
    // Stop early: the job checkpoints at the next step and the run can be resumed.
    await page.getByTestId('run-cancel').click();
    await poll(() => page.getByTestId('run-loss').textContent()).toMatch(/^\d/);
    await poll(() => page.getByTestId('run-tensors').textContent()).toMatch(/^\d+$/);
    await poll(() => page.getByTestId('run-rate').textContent()).toMatch(/^\d/);
    await poll(() => page.locator('[data-testid="loss-chart"] g[data-series="loss"] path').count()).toBe(1);
    await poll(() => monitor.getAttribute('data-state'), 60_000).toBe('stopped');
    const stoppedAt = await step();
    expect(stoppedAt).toBeGreaterThanOrEqual(1);
    expect(stoppedAt).toBeLessThan(STEPS);
    await page.getByTestId('run-resume').click();
    await poll(() => monitor.getAttribute('data-state'), 30_000).toBe('running');
    await poll(() => monitor.getAttribute('data-state'), 180_000).toBe('finished');
    expect(await step()).toBe(STEPS);

    // The whole curve (before and after the resume), the newest preview and the checkpoints are shown.
    const lossPath = page.locator('[data-testid="loss-chart"] g[data-series="loss"] path');
    await poll(async () => ((await lossPath.getAttribute('d')) ?? '').split('L').length).toBe(STEPS);
    const preview = page.getByTestId('run-preview');
    await poll(() => preview.getAttribute('data-step'), 30_000).toBe(String(STEPS));
    await poll(() => page.evaluate(`(() => { const img = document.querySelector('[data-testid="run-preview"]'); return img.complete && img.naturalWidth > 0; })()`)).toBe(true);
    await screenshot(page, 'pretrain-finished');

    // The run is listed, and its weights are a registered pretrained model.
    await monitor.getByRole('button', { name: '‹ All runs' }).click();
    await poll(() => page.locator('[data-testid="runs-table"] tr[data-run-id]').first().getAttribute('data-state')).toBe('finished');
    await page.locator('[data-nav="models"]').click();
    await poll(() => page.locator('[data-model-id]').filter({ hasText: 'pretrained' }).count()).toBe(1);
    expect(errors).toEqual([]);
  });
});
