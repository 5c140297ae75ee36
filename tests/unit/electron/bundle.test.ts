/**
 * The Electron main bundle as `npm run build:main` produces it (ESM, node_modules external), run by
 * Node with `electron` resolved to a scripted stand-in: checks the bundle's wiring, not just the sources.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CATALOG_FILE } from '../../../main/catalog/db';
import { repoRoot, tempDir } from '../../helpers/temp';

const FAKE_ELECTRON = `
import { EventEmitter } from 'node:events';
const log = (line) => process.stdout.write(line + '\\n');
class App extends EventEmitter {
  isPackaged = true;
  requestSingleInstanceLock() { log('lock'); return true; }
  enableSandbox() { log('sandbox'); }
  whenReady() { return new Promise((resolve) => setTimeout(() => { log('ready'); resolve(); }, 20)); }
  getPath(name) { return process.env.FAKE_USER_DATA; }
  quit() {
    const event = { defaultPrevented: false, preventDefault() { this.defaultPrevented = true; } };
    this.emit('before-quit', event);
    if (!event.defaultPrevented) { log('quit'); process.exit(0); }
  }
  exit(code) { process.exit(code); }
}
export const app = new App();
class Contents extends EventEmitter {
  mainFrame = { url: '' };
  setWindowOpenHandler(handler) { this.openHandler = handler; }
  send() {}
  isDestroyed() { return false; }
  getURL() { return this.mainFrame.url; }
}
const windows = [];
export class BrowserWindow extends EventEmitter {
  static getAllWindows() { return windows; }
  webContents = new Contents();
  constructor(options) { super(); windows.push(this); log('window ' + JSON.stringify(options.webPreferences)); }
  async loadURL(url) { this.webContents.mainFrame.url = url; log('load ' + url); }
  show() {}
  isDestroyed() { return false; }
}
const handlers = new Map();
export const protocol = {
  registerSchemesAsPrivileged(schemes) { log('privileged ' + JSON.stringify(schemes)); },
  handle(scheme, handler) { handlers.set('protocol:' + scheme, handler); },
};
export const ipcMain = { handle(channel, handler) { handlers.set(channel, handler); }, removeHandler(channel) { handlers.delete(channel); } };
export const session = { defaultSession: { webRequest: { onBeforeRequest() {} }, setPermissionRequestHandler() {}, setPermissionCheckHandler() {}, setDevicePermissionHandler() {} } };
export const utilityProcess = { fork() { throw new Error('not in this test'); } };
export const dialog = { showErrorBox(title) { log('error ' + title); } };
// Play the user once the app has opened its window (polling: startup time varies with machine load).
const drive = async () => {
  if (!windows[0] || !handlers.has('usfm:call:app.ping')) return setTimeout(drive, 50);
  const page = await handlers.get('protocol:app')(new Request('app://usfm/index.html'));
  log('protocol ' + page.status + ' ' + page.headers.get('content-security-policy'));
  const contents = windows[0].webContents;
  const navigation = { url: 'https://example.org', defaultPrevented: false, preventDefault() { this.defaultPrevented = true; } };
  contents.emit('will-navigate', navigation);
  log('navigate-blocked ' + navigation.defaultPrevented);
  const outcome = await handlers.get('usfm:call:app.ping')({ sender: contents, senderFrame: contents.mainFrame }, { echo: 'bundle' });
  log('ping ' + JSON.stringify(outcome));
  app.quit();
};
setTimeout(drive, 50);
`;

const HOOKS = `
export async function resolve(specifier, context, next) {
  if (specifier === 'electron') return { url: new URL('./fake-electron.mjs', import.meta.url).href, shortCircuit: true };
  return next(specifier, context);
}
`;

describe('dist/electron/main.mjs', () => {
  let outdir: string;
  let fakeDir: { dir: string; cleanup: () => void };
  let userData: { dir: string; cleanup: () => void };

  beforeAll(() => {
    // Inside the repository, so the bundle finds package.json (appRoot) and node_modules as in dist/.
    fs.mkdirSync(path.join(repoRoot, 'tmp'), { recursive: true });
    outdir = fs.mkdtempSync(path.join(repoRoot, 'tmp', 'bundle-test-'));
    execFileSync(
      process.execPath,
      [
        path.join(repoRoot, 'scripts', 'build-main.mjs'),
        '--only',
        'electron',
        '--only',
        'preload',
        '--outdir',
        outdir,
      ],
      {
        cwd: repoRoot,
        stdio: 'pipe',
      },
    );
    fakeDir = tempDir('usfm-fake-electron-');
    fs.writeFileSync(path.join(fakeDir.dir, 'fake-electron.mjs'), FAKE_ELECTRON);
    fs.writeFileSync(path.join(fakeDir.dir, 'hooks.mjs'), HOOKS);
    fs.writeFileSync(
      path.join(fakeDir.dir, 'register.mjs'),
      "import { register } from 'node:module';\nregister('./hooks.mjs', import.meta.url);\n",
    );
    userData = tempDir('usfm-bundle-data-');
  }, 120_000);
  afterAll(() => {
    fs.rmSync(outdir, { recursive: true, force: true });
    fakeDir.cleanup();
    userData.cleanup();
  });

  it('builds the ESM main and the CommonJS preload next to each other', () => {
    expect(fs.existsSync(path.join(outdir, 'electron', 'main.mjs'))).toBe(true);
    expect(fs.existsSync(path.join(outdir, 'electron', 'preload.cjs'))).toBe(true);
    const main = fs.readFileSync(path.join(outdir, 'electron', 'main.mjs'), 'utf8');
    expect(main).toMatch(/from "electron"/);
    // Native and heavy modules stay external (loaded from node_modules).
    expect(main).toMatch(/from "better-sqlite3"/);
    expect(main).not.toMatch(/__dirname.*better_sqlite3\.node/);
  });

  it('starts, serves app://, guards IPC and quits cleanly when run', () => {
    const run = spawnSync(
      process.execPath,
      ['--import', path.join(fakeDir.dir, 'register.mjs'), path.join(outdir, 'electron', 'main.mjs')],
      {
        cwd: repoRoot,
        env: { ...process.env, FAKE_USER_DATA: userData.dir, USFM_DATA_DIR: '' },
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    const lines = run.stdout.trim().split('\n');
    expect(run.status, run.stderr).toBe(0);
    expect(lines.slice(0, 4)).toEqual([
      'privileged [{"scheme":"app","privileges":{"standard":true,"secure":true,"supportFetchAPI":true,"corsEnabled":true}}]',
      'sandbox',
      'lock',
      'ready',
    ]);
    const windowLine = lines.find((l) => l.startsWith('window '))!;
    const prefs = JSON.parse(windowLine.slice('window '.length)) as Record<string, unknown>;
    expect(prefs).toMatchObject({
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      webviewTag: false,
      devTools: false,
    });
    expect(prefs.preload).toBe(path.join(outdir, 'electron', 'preload.cjs'));
    expect(lines).toContain('load app://usfm/index.html');
    expect(lines.find((l) => l.startsWith('protocol '))).toMatch(/^protocol (200|503) default-src 'self'/);
    expect(lines).toContain('navigate-blocked true');
    expect(lines).toContain('ping {"ok":true,"result":{"pong":true,"echo":"bundle"}}');
    expect(lines.at(-1)).toBe('quit');
    // Without --data-dir or USFM_DATA_DIR the catalog lives in Electron's userData folder.
    expect(fs.existsSync(path.join(userData.dir, CATALOG_FILE))).toBe(true);
  });
});
