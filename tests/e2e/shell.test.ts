/**
 * Browser mode end to end: the app loads over the token-protected WebSocket, shows the ML backend,
 * runs jobs with live progress, survives a renderer reload and refuses connections without the token.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { Browser } from 'playwright-core';
import { launchBrowser, openPage, screenshot, serveApp, type ServedApp } from './harness';
import { poll } from './poll';

let server: ServedApp;
let browser: Browser;

beforeAll(async () => {
  server = await serveApp({ samples: false });
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

describe('browser mode shell', () => {
  it('loads, shows the backend in use and the same backend in Settings', async () => {
    const { page, errors } = await openPage(browser, server.url);
    // The token leaves the address bar once it is stored for reloads.
    await poll(() => page.url()).not.toContain('token=');
    await poll(() => page.getByTestId('connection').textContent()).toBe('open');
    const backend = page.getByTestId('backend').locator('strong');
    await poll(() => backend.textContent()).toMatch(/^(tfjs-node-gpu|tfjs-node|wasm|cpu)/);
    const active = (await backend.textContent())!.split(' ')[0];

    await page.locator('[data-nav="settings"]').click();
    await poll(() => page.getByTestId('active-backend').textContent()).toBe(active);
    // On WASM the matrix-product engine is shown: the native BLAS one where OpenBLAS is installed (CI).
    if (active === 'wasm') {
      const engine = page.getByTestId('matmul-engine');
      await poll(() => engine.textContent()).toMatch(
        /Matrix products: native-blas\s+\(libopenblas\.so\.0, 1\s+thread\)/,
      );
      // Compute threads: saved as a setting, the backend re-probed, the BLAS pool resized.
      const threads = page.getByTestId('threads-input');
      await threads.fill('2');
      await threads.dispatchEvent('change');
      await poll(() => engine.textContent()).toMatch(/libopenblas\.so\.0, 2\s+threads\)/);
      await threads.fill('1');
      await threads.dispatchEvent('change');
      await poll(() => engine.textContent()).toMatch(/libopenblas\.so\.0, 1\s+thread\)/);
    }
    await screenshot(page, 'settings');
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it('starts a self-test job and shows its progress and end', async () => {
    const { page, errors } = await openPage(browser, server.url);
    await page.locator('[data-nav="jobs"]').click();
    await page.getByTestId('selftest-steps').fill('12');
    await page.getByTestId('selftest-step-ms').fill('150');
    const selfTests = page.locator('tr[data-kind="selftest"]');
    const before = await selfTests.count();
    await page.getByTestId('start-selftest').click();
    await poll(() => selfTests.count()).toBe(before + 1);
    const row = selfTests.first();
    // Live progress: the bar's label counts steps while the job runs.
    await poll(() => row.locator('.progress .label').textContent(), 30_000).toMatch(/counting · \d+\/12/);
    await screenshot(page, 'jobs-running');
    await poll(() => row.getAttribute('data-state'), 60_000).toBe('succeeded');
    await poll(() => row.locator('.progress .label').textContent()).toContain('12/12');
    // The job's own log, read through the contract.
    await row.getByTestId('job-log').click();
    await poll(() => page.getByTestId('job-log-lines').textContent()).toContain('self-test counted 12 steps');
    await screenshot(page, 'jobs-succeeded');
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it('keeps a job running across a renderer reload and shows its live state again', async () => {
    const { page, errors } = await openPage(browser, server.url);
    await page.locator('[data-nav="jobs"]').click();
    await page.getByTestId('selftest-steps').fill('40');
    await page.getByTestId('selftest-step-ms').fill('200');
    await page.getByTestId('start-selftest').click();
    const jobId = await page
      .locator(
        'tr[data-kind="selftest"][data-state="queued"], tr[data-kind="selftest"][data-state="running"]',
      )
      .first()
      .getAttribute('data-job-id');
    expect(jobId).toMatch(/^job_/);
    const row = page.locator(`tr[data-job-id="${jobId}"]`);
    await poll(() => row.getAttribute('data-state'), 30_000).toBe('running');

    await page.reload();
    // The token survived the reload (sessionStorage) and the view is still Jobs (URL hash).
    await poll(() => page.getByTestId('connection').textContent()).toBe('open');
    await poll(() => row.getAttribute('data-state')).toBe('running');
    const stepAfterReload = async (): Promise<number> =>
      Number(/· (\d+)\/40/.exec((await row.locator('.progress .label').textContent()) ?? '')?.[1] ?? 0);
    const first = await stepAfterReload();
    // Progress events keep arriving on the new connection.
    await poll(stepAfterReload, 30_000).toBeGreaterThan(first);
    await screenshot(page, 'jobs-after-reload');
    await poll(() => row.getAttribute('data-state'), 60_000).toBe('succeeded');
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it('without the token shows the access error and the WebSocket is refused', async () => {
    const { page } = await openPage(browser, `${server.origin}/`);
    const alert = page.getByRole('alert');
    await poll(() => alert.textContent()).toContain('No access token');
    await screenshot(page, 'no-token');

    // The page itself cannot open the API socket with a wrong or missing token.
    const outcome =
      (await page.evaluate(`Promise.all(['', '?token=wrong'].map((query) => new Promise((resolve) => {
      const ws = new WebSocket('ws://' + location.host + '/api' + query);
      ws.onopen = () => { resolve('open'); ws.close(); };
      ws.onerror = () => resolve('refused');
    })))`)) as string[];
    expect(outcome).toEqual(['refused', 'refused']);

    // Same for a non-browser client: HTTP 401 on upgrade, even with the right Origin.
    const status = await new Promise<number>((resolve, reject) => {
      const ws = new WebSocket(`${server.origin.replace('http', 'ws')}/api?token=not-the-token`, {
        origin: server.origin,
      });
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => reject(new Error('connection was accepted')));
      ws.on('error', () => undefined);
    });
    expect(status).toBe(401);

    // The right token is accepted (the refusal above is about the token, not the client).
    const opened = await new Promise<boolean>((resolve) => {
      const ws = new WebSocket(`${server.origin.replace('http', 'ws')}/api?token=${server.token}`, {
        origin: server.origin,
      });
      ws.on('open', () => {
        ws.close();
        resolve(true);
      });
      ws.on('error', () => resolve(false));
    });
    expect(opened).toBe(true);
    await page.context().close();
  });
});
