import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTENT_SECURITY_POLICY } from '../../../main/server/http-server';
import { repoRoot, tempDir } from '../../helpers/temp';

/** Where Electron is installed, `npm start` launches it; the fallback is then forced for this test. */
function electronInstalled(): boolean {
  try {
    const binary = createRequire(path.join(repoRoot, 'package.json'))('electron') as unknown;
    return typeof binary === 'string' && fs.existsSync(binary);
  } catch {
    return false;
  }
}

describe('scripts/start.mjs without the Electron binary', () => {
  const withElectron = electronInstalled();
  const lines: string[] = [];
  let child: ReturnType<typeof spawn>;
  let data: { dir: string; cleanup: () => void };
  let exit: Promise<number | null>;

  beforeAll(async () => {
    const index = path.join(repoRoot, 'dist', 'renderer', 'index.html');
    if (!fs.existsSync(index))
      throw new Error('the renderer is not built: run `npm run build:renderer` first');
    data = tempDir('usfm-start-');
    const env = { ...process.env, USFM_START_MODE: withElectron ? 'browser' : '' };
    child = spawn(
      process.execPath,
      [path.join(repoRoot, 'scripts', 'start.mjs'), '--data-dir', data.dir, '--port', '0'],
      {
        cwd: repoRoot,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    exit = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    const reader = readline.createInterface({ input: child.stdout! });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no URL within 60 s; output so far: ${lines.join(' | ')}`)),
        60_000,
      );
      reader.on('line', (line) => {
        lines.push(line);
        if (line.startsWith('Open: ')) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
  });
  afterAll(async () => {
    if (child.exitCode === null) child.kill('SIGTERM');
    await exit;
    data.cleanup();
  });

  it('says so in one line, then prints the browser-mode URL', () => {
    expect(lines).toHaveLength(2);
    expect(lines[0]).toBe(
      withElectron
        ? 'Browser mode requested (USFM_START_MODE=browser): starting browser mode instead'
        : 'Electron is not installed (offline install): starting browser mode instead',
    );
    expect(lines[1]).toMatch(/^Open: http:\/\/127\.0\.0\.1:\d+\/#token=[\w-]{20,}$/);
  });

  it('serves the built renderer with the CSP at that URL', async () => {
    const url = new URL(lines[1]!.slice('Open: '.length));
    const response = await fetch(new URL('/', url.origin));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
    expect(await response.text()).toMatch(/<!doctype html>/i);
  });

  it('stops the server when it is stopped', async () => {
    child.kill('SIGTERM');
    expect(await exit).toBe(0);
  });
});
