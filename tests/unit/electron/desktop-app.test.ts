import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { resolveDesktopDataDir, startDesktopApp, type DesktopApp } from '../../../electron/desktop-app';
import { callChannel } from '../../../electron/constants';
import { callNames } from '../../../main/api/contract';
import type { CallOutcome } from '../../../main/api/dispatcher';
import { tempDir } from '../../helpers/temp';
import {
  asElectron,
  fakeElectron,
  FakeBrowserWindow,
  FakeEvent,
  FakeWebContents,
  type FakeElectron,
} from './fake-electron';

// electron/main.ts imports `electron`; the binary is absent, so the module is replaced by the fakes.
const mocked = vi.hoisted(() => ({ current: null as FakeElectron | null }));
vi.mock('electron', () => {
  const get = (): FakeElectron => {
    if (!mocked.current) throw new Error('no fake electron installed for this test');
    return mocked.current;
  };
  return {
    get app() {
      return get().app;
    },
    get BrowserWindow() {
      return get().BrowserWindow;
    },
    get protocol() {
      return get().protocol;
    },
    get ipcMain() {
      return get().ipcMain;
    },
    get session() {
      return get().session;
    },
    get utilityProcess() {
      return get().utilityProcess;
    },
    get dialog() {
      return get().dialog;
    },
  };
});

let temp: { dir: string; cleanup: () => void };
let electron: FakeElectron;
let running: DesktopApp | null = null;
const OPTIONS = { rendererDir: '/nonexistent/renderer', preloadPath: '/app/dist/electron/preload.cjs' };

beforeEach(() => {
  temp = tempDir('usfm-desktop-');
  electron = fakeElectron(path.join(temp.dir, 'userData'));
});
afterEach(async () => {
  await running?.ctx.close();
  running = null;
  temp.cleanup();
});

async function start(argv: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<DesktopApp | null> {
  const started = startDesktopApp(asElectron(electron), { ...OPTIONS, argv, env });
  electron.app.becomeReady();
  running = await started;
  return running;
}

describe('desktop app lifecycle', () => {
  it('registers the privileged scheme and enables the sandbox before ready, then serves and opens the window', async () => {
    const started = startDesktopApp(asElectron(electron), { ...OPTIONS, argv: [], env: {} });
    // Synchronous part: before `ready`.
    expect(electron.app.calls).toEqual([
      'registerSchemesAsPrivileged',
      'enableSandbox',
      'requestSingleInstanceLock',
    ]);
    expect(electron.protocol.privileged[0]).toMatchObject({
      scheme: 'app',
      privileges: { standard: true, secure: true },
    });
    expect(FakeBrowserWindow.instances).toHaveLength(0);
    electron.app.becomeReady();
    running = await started;
    expect(running).not.toBeNull();
    expect(electron.protocol.handlers.has('app')).toBe(true);
    expect(FakeBrowserWindow.instances).toHaveLength(1);
    const win = FakeBrowserWindow.instances[0]!;
    expect(win.loadedUrl).toBe('app://usfm/index.html');
    expect(win.options.webPreferences).toMatchObject({
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      preload: OPTIONS.preloadPath,
      devTools: true,
    });
    const session = electron.session.defaultSession;
    expect(session.permissionRequestHandler).not.toBeNull();
    expect(session.permissionCheckHandler!(null, 'media', 'app://usfm', {})).toBe(false);
    expect(session.requestFilters).toHaveLength(1);
  });

  it('a second instance quits at once without opening anything', async () => {
    electron.app.gotLock = false;
    expect(await start()).toBeNull();
    expect(electron.app.calls).toContain('quit');
    expect(FakeBrowserWindow.instances).toHaveLength(0);
    expect(electron.ipcMain.handlers.size).toBe(0);
    expect(electron.protocol.handlers.size).toBe(0);
    expect(fs.existsSync(path.join(temp.dir, 'userData'))).toBe(false);
  });

  it('the first instance focuses its window when a second one starts', async () => {
    await start();
    const win = FakeBrowserWindow.instances[0]!;
    win.minimized = true;
    electron.app.emit('second-instance', new FakeEvent(), ['usfm-workbench'], '/');
    expect(win.restoreCount).toBe(1);
    expect(win.focusCount).toBe(1);
    expect(FakeBrowserWindow.instances).toHaveLength(1);
  });

  it('hardens every web contents Electron creates', async () => {
    await start();
    const contents = new FakeWebContents();
    electron.app.emit('web-contents-created', new FakeEvent(), contents);
    expect(contents.attempt('will-navigate', 'https://example.org/').defaultPrevented).toBe(true);
    expect(
      contents.windowOpenHandler!({ url: 'https://example.org/', frameName: '', disposition: 'new-window' }),
    ).toEqual({ action: 'deny' });
  });

  it('answers contract calls from its window and refuses others', async () => {
    await start();
    expect([...electron.ipcMain.handlers.keys()].sort()).toEqual(callNames.map(callChannel).sort());
    const win = FakeBrowserWindow.instances[0]!;
    const ping = (await electron.ipcMain.invoke('usfm:call:app.ping', win.webContents.invokeEvent(), {
      echo: 'desk',
    })) as CallOutcome;
    expect(ping).toEqual({ ok: true, result: { pong: true, echo: 'desk' } });
    const stranger = new FakeWebContents();
    stranger.mainFrame.url = 'https://example.org/';
    const refused = (await electron.ipcMain.invoke(
      'usfm:call:app.ping',
      stranger.invokeEvent(),
      {},
    )) as CallOutcome;
    expect(!refused.ok && refused.error.code).toBe('FORBIDDEN');
  });

  it('opens the catalog in userData unless --data-dir or USFM_DATA_DIR say otherwise', async () => {
    const app = await start();
    expect(app!.ctx.dataDir).toBe(path.join(temp.dir, 'userData'));
    expect(fs.existsSync(path.join(temp.dir, 'userData'))).toBe(true);
    const userData = (): string => '/user/data';
    expect(
      resolveDesktopDataDir(['electron', '.', '--data-dir', '/d/one'], { USFM_DATA_DIR: '/d/env' }, userData),
    ).toBe(path.resolve('/d/one'));
    expect(resolveDesktopDataDir(['electron', '.', '--data-dir=/d/two'], {}, userData)).toBe(
      path.resolve('/d/two'),
    );
    expect(resolveDesktopDataDir(['electron', '.'], { USFM_DATA_DIR: '/d/env' }, userData)).toBe(
      path.resolve('/d/env'),
    );
    expect(resolveDesktopDataDir(['electron', '.', '--data-dir'], {}, userData)).toBe('/user/data');
    expect(resolveDesktopDataDir(['electron', '.'], {}, userData)).toBe('/user/data');
  });

  it('quitting waits for ctx.close() (jobs checkpoint and stop), then quits for real', async () => {
    const app = await start(['--data-dir', path.join(temp.dir, 'explicit')]);
    expect(app!.ctx.dataDir).toBe(path.join(temp.dir, 'explicit'));
    let releaseClose!: () => void;
    const realClose = app!.ctx.close.bind(app!.ctx);
    const closeCalls: number[] = [];
    (app!.ctx as { close: () => Promise<void> }).close = async () => {
      closeCalls.push(Date.now());
      await new Promise<void>((resolve) => (releaseClose = resolve));
      await realClose();
    };
    electron.app.quit();
    expect(closeCalls).toHaveLength(1);
    expect(electron.app.calls).not.toContain('quit'); // prevented while closing
    electron.app.quit(); // a second request while closing does not close twice
    expect(closeCalls).toHaveLength(1);
    releaseClose();
    // Quitting stops the first-run sample import job (a child process): slow on a loaded machine.
    await vi.waitFor(() => expect(electron.app.calls).toContain('quit'), { timeout: 30_000 });
    expect(electron.ipcMain.handlers.size).toBe(0);
    running = null; // already closed
  });

  it('shows an error and exits when the data folder cannot be opened', async () => {
    const file = path.join(temp.dir, 'not-a-folder');
    fs.writeFileSync(file, 'x');
    expect(await start(['--data-dir', file])).toBeNull();
    expect(electron.dialog.errors).toHaveLength(1);
    expect(electron.dialog.errors[0]!.title).toBe('USFM Workbench cannot start');
    expect(electron.app.exitCode).toBe(1);
  });
});

describe('electron/main.ts entry', () => {
  it('wires the real modules: importing it registers the scheme before ready and starts the app once ready', async () => {
    mocked.current = electron;
    const previous = process.env.USFM_DATA_DIR;
    process.env.USFM_DATA_DIR = path.join(temp.dir, 'from-env');
    try {
      vi.resetModules();
      await import('../../../electron/main');
      expect(electron.app.calls.slice(0, 3)).toEqual([
        'registerSchemesAsPrivileged',
        'enableSandbox',
        'requestSingleInstanceLock',
      ]);
      electron.app.becomeReady();
      await vi.waitFor(() => expect(FakeBrowserWindow.instances).toHaveLength(1), { timeout: 15_000 });
      const win = FakeBrowserWindow.instances[0]!;
      expect(win.options.webPreferences?.preload).toMatch(/electron[\\/]preload\.cjs$/);
      expect(electron.ipcMain.handlers.size).toBe(callNames.length);
      await vi.waitFor(() => expect(fs.existsSync(path.join(temp.dir, 'from-env'))).toBe(true), {
        timeout: 15_000,
      });
      electron.app.quit();
      // Quitting stops the first-run sample import job (a child process): slow on a loaded machine.
      await vi.waitFor(() => expect(electron.app.calls).toContain('quit'), { timeout: 30_000 });
    } finally {
      if (previous === undefined) delete process.env.USFM_DATA_DIR;
      else process.env.USFM_DATA_DIR = previous;
      mocked.current = null;
    }
  });
});
