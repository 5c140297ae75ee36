/**
 * End-to-end harness: the real `usfm serve` browser mode in a child process, driven by a headless Chromium.
 * Builds nothing: CI runs `npm run build:renderer` first, and a missing build fails loudly here.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const sharedRoot = path.resolve(repoRoot, '..', 'shared');
export const screenshotDir = path.join(os.tmpdir(), 'usfm-e2e');

const CHROMIUM = process.env.USFM_E2E_CHROMIUM ?? '/usr/bin/chromium';
const STARTUP_TIMEOUT_MS = 60_000;

export function assertRendererBuilt(): void {
  const index = path.join(repoRoot, 'dist', 'renderer', 'index.html');
  if (!fs.existsSync(index)) {
    throw new Error(`The renderer is not built (${path.relative(repoRoot, index)} is missing): run \`npm run build:renderer\` before the e2e tests.`);
  }
}

export interface ServedApp {
  /** The full URL with `#token=…`, as `usfm serve` prints it. */
  url: string;
  /** `http://127.0.0.1:PORT` without path or token. */
  origin: string;
  token: string;
  dataDir: string;
  /** Everything the server wrote to stderr so far (shown when a test fails). */
  stderr(): string;
  stop(): Promise<void>;
}

/**
 * Starts `usfm serve --json --port 0` on a fresh (or given) data folder and waits for its URL.
 * `samples: false` skips the first-run import of the bundled sample dataset (less CPU for tests that do not use it).
 */
export async function serveApp(options: { dataDir?: string; samples?: boolean } = {}): Promise<ServedApp> {
  assertRendererBuilt();
  const dataDir = options.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'usfm-e2e-data-'));
  const ownsDataDir = !options.dataDir;
  const child = spawn(process.execPath, [path.join(repoRoot, 'bin', 'usfm.mjs'), 'serve', '--json', '--data-dir', dataDir, '--port', '0'], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, USFM_DATA_DIR: dataDir, USFM_NO_SAMPLES: options.samples === false ? '1' : '0' },
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-20_000)));

  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`usfm serve printed no URL within ${STARTUP_TIMEOUT_MS / 1000}s`)), STARTUP_TIMEOUT_MS);
    const lines = readline.createInterface({ input: child.stdout! });
    const fail = (err: Error): void => {
      clearTimeout(timer);
      lines.close();
      child.kill('SIGKILL');
      reject(new Error(`${err.message}\n--- server stderr ---\n${stderr}`));
    };
    lines.on('line', (line) => {
      try {
        const message = JSON.parse(line) as { type?: string; url?: string };
        if (message.type === 'listening' && message.url) {
          clearTimeout(timer);
          resolve(message.url);
        }
      } catch {
        /* not a JSON line: ignore */
      }
    });
    child.once('exit', (code, signal) => fail(new Error(`usfm serve exited early (code ${code}, signal ${signal})`)));
  });

  const parsed = new URL(url);
  return {
    url,
    origin: parsed.origin,
    token: /token=([^&]+)/.exec(parsed.hash)?.[1] ?? '',
    dataDir,
    stderr: () => stderr,
    async stop() {
      await stopProcess(child);
      if (ownsDataDir) fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** SIGTERM (the server asks running jobs to checkpoint), then SIGKILL if it does not exit in time. */
async function stopProcess(child: ChildProcess, graceMs = 15_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
}

export interface OpenedPage {
  page: Page;
  /** Uncaught page errors and console errors, for asserting a clean run. */
  errors: string[];
}

/** A fresh browser context (its own sessionStorage) on `url`, collecting page errors. */
export async function openPage(browser: Browser, url: string): Promise<OpenedPage> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 820 } });
  const page = await context.newPage();
  page.setDefaultTimeout(30_000);
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(`console: ${msg.text()}`);
  });
  await page.goto(url);
  return { page, errors };
}

/** Saves a full-page screenshot under the OS temp folder and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  fs.mkdirSync(screenshotDir, { recursive: true });
  const file = path.join(screenshotDir, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

