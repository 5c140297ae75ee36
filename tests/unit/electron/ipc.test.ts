import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { IpcMain } from 'electron';
import { FORBIDDEN_OUTCOME, forwardEvents, registerIpc } from '../../../electron/ipc';
import { callChannel, EVENT_CHANNEL } from '../../../electron/constants';
import { callNames, type JobRecord } from '../../../main/api/contract';
import type { CallOutcome } from '../../../main/api/dispatcher';
import type { AppContext } from '../../../main/app/context';
import { testApp } from '../../helpers/app';
import { FakeBrowserWindow, FakeIpcMain, FakeWebContents, FakeWebFrame } from './fake-electron';

let app: AppContext;
let dispose: () => Promise<void>;
let ipcMain: FakeIpcMain;
let unregister: () => void;
let page: FakeWebContents;

beforeEach(() => {
  ({ app, dispose } = testApp('electron'));
  ipcMain = new FakeIpcMain();
  unregister = registerIpc(ipcMain as unknown as IpcMain, app);
  page = new FakeWebContents();
  page.mainFrame.url = 'app://usfm/index.html';
});
afterEach(async () => dispose());

const call = (name: string, payload: unknown, event = page.invokeEvent()): Promise<CallOutcome> =>
  ipcMain.invoke(callChannel(name), event, payload) as Promise<CallOutcome>;

describe('IPC handlers', () => {
  it('registers exactly one handler per contract call on usfm:call:<name>', () => {
    expect([...ipcMain.handlers.keys()].sort()).toEqual(callNames.map((n) => `usfm:call:${n}`).sort());
    expect(callNames.length).toBeGreaterThan(3);
  });

  it('dispatches valid payloads from the app window to the real handlers', async () => {
    expect(await call('app.ping', { echo: 'hello' })).toEqual({
      ok: true,
      result: { pong: true, echo: 'hello' },
    });
    const settings = await call('settings.update', { wasmThreads: 2 });
    expect(settings).toEqual({ ok: true, result: { backend: 'auto', wasmThreads: 2 } });
    expect(await call('settings.get', undefined)).toEqual({
      ok: true,
      result: { backend: 'auto', wasmThreads: 2 },
    });
    const jobs = await call('jobs.list', {});
    expect(jobs.ok).toBe(true);
    expect(jobs.ok && (jobs.result as JobRecord[])).toEqual([]);
  });

  it('returns VALIDATION errors for invalid payloads', async () => {
    const wrongType = await call('settings.update', { wasmThreads: 'many' });
    expect(wrongType.ok).toBe(false);
    expect(!wrongType.ok && wrongType.error.code).toBe('VALIDATION');
    expect(!wrongType.ok && wrongType.error.details).toEqual([
      expect.objectContaining({ path: 'wasmThreads' }),
    ]);
    const extraKey = await call('app.ping', { echo: 'x', command: 'rm -rf /' });
    expect(!extraKey.ok && extraKey.error.code).toBe('VALIDATION');
    const notAnObject = await call('jobs.get', 'job_123');
    expect(!notAnObject.ok && notAnObject.error.code).toBe('VALIDATION');
    // Nothing was changed by the refused update.
    expect(await call('settings.get', {})).toEqual({ ok: true, result: { backend: 'auto', wasmThreads: 1 } });
  });

  it('refuses calls from subframes, foreign origins and vanished frames with FORBIDDEN', async () => {
    const subframe = new FakeWebFrame('app://usfm/index.html', page.mainFrame);
    expect(await call('app.ping', {}, page.invokeEvent(subframe))).toEqual(FORBIDDEN_OUTCOME);
    expect(await call('app.ping', {}, page.invokeEvent(null))).toEqual(FORBIDDEN_OUTCOME);
    for (const url of [
      'https://example.org/',
      'file:///home/user/index.html',
      'app://other/index.html',
      'http://127.0.0.1:5173/',
    ]) {
      const foreign = new FakeWebContents();
      foreign.mainFrame.url = url;
      expect(await call('settings.update', { wasmThreads: 8 }, foreign.invokeEvent()), url).toEqual(
        FORBIDDEN_OUTCOME,
      );
    }
    expect(FORBIDDEN_OUTCOME.ok === false && FORBIDDEN_OUTCOME.error.code).toBe('FORBIDDEN');
    // The refused update did not happen.
    expect(await call('settings.get', {})).toEqual({ ok: true, result: { backend: 'auto', wasmThreads: 1 } });
  });

  it('unregisters every handler', () => {
    unregister();
    expect(ipcMain.handlers.size).toBe(0);
  });
});

describe('event forwarding', () => {
  it('sends each bus event to every live app window as { event, payload }', () => {
    FakeBrowserWindow.instances = [];
    const a = new FakeBrowserWindow();
    const b = new FakeBrowserWindow();
    const closed = new FakeBrowserWindow();
    const elsewhere = new FakeBrowserWindow();
    for (const w of [a, b, closed]) w.webContents.mainFrame.url = 'app://usfm/index.html';
    elsewhere.webContents.mainFrame.url = 'https://example.org/';
    closed.close();
    const stop = forwardEvents(app.events, () => FakeBrowserWindow.instances);
    const line = { jobId: null, level: 'info' as const, message: 'hello', time: new Date(0).toISOString() };
    app.events.emit('log.line', line);
    expect(a.webContents.sent).toEqual([
      { channel: EVENT_CHANNEL, message: { event: 'log.line', payload: line } },
    ]);
    expect(b.webContents.sent).toEqual(a.webContents.sent);
    expect(closed.webContents.sent).toEqual([]);
    expect(elsewhere.webContents.sent).toEqual([]);
    stop();
    app.events.emit('log.line', line);
    expect(a.webContents.sent).toHaveLength(1);
  });
});
