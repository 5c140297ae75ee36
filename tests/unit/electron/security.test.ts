import { describe, expect, it } from 'vitest';
import type { BrowserWindow, IpcMainInvokeEvent, Session, WebContents } from 'electron';
import {
  blockRemoteRequests,
  denyAllPermissions,
  hardenWebContents,
  isTrustedSender,
  REMOTE_URL_PATTERNS,
} from '../../../electron/security';
import { createMainWindow, focusWindow, secureWebPreferences } from '../../../electron/window';
import { APP_ENTRY_URL, isAppUrl } from '../../../electron/constants';
import { FakeBrowserWindow, FakeSession, FakeWebContents, FakeWebFrame } from './fake-electron';

const asContents = (c: FakeWebContents): WebContents => c as unknown as WebContents;

describe('web contents hardening', () => {
  it('blocks navigation, redirects and frame navigation away from app://usfm', () => {
    const contents = new FakeWebContents();
    hardenWebContents(asContents(contents));
    for (const url of [
      'https://example.org/',
      'http://127.0.0.1:8080/',
      'file:///etc/passwd',
      'app://other/index.html',
      'javascript:alert(1)',
      'data:text/html,hi',
    ]) {
      expect(contents.attempt('will-navigate', url).defaultPrevented, url).toBe(true);
      expect(contents.attempt('will-redirect', url).defaultPrevented, url).toBe(true);
      expect(contents.attempt('will-frame-navigate', url).defaultPrevented, url).toBe(true);
    }
    expect(contents.attempt('will-navigate', 'app://usfm/index.html').defaultPrevented).toBe(false);
    expect(contents.attempt('will-navigate', 'app://usfm/datasets').defaultPrevented).toBe(false);
  });

  it('denies every new window and prevents <webview> attachment', () => {
    const contents = new FakeWebContents();
    hardenWebContents(asContents(contents));
    expect(contents.windowOpenHandler).not.toBeNull();
    for (const url of ['https://example.org/', 'app://usfm/index.html', 'about:blank']) {
      expect(contents.windowOpenHandler!({ url, frameName: '', disposition: 'new-window' })).toEqual({
        action: 'deny',
      });
    }
    expect(contents.attemptWebview().defaultPrevented).toBe(true);
  });

  it('registers its listeners once per web contents', () => {
    const contents = new FakeWebContents();
    hardenWebContents(asContents(contents));
    hardenWebContents(asContents(contents));
    expect(contents.listenerCount('will-navigate')).toBe(1);
    expect(contents.listenerCount('will-attach-webview')).toBe(1);
  });
});

describe('session policy', () => {
  it('denies every permission request and check, and every device', () => {
    const session = new FakeSession();
    denyAllPermissions(session as unknown as Session);
    for (const permission of [
      'media',
      'geolocation',
      'notifications',
      'clipboard-read',
      'hid',
      'openExternal',
      'fullscreen',
    ]) {
      let granted: boolean | null = null;
      session.permissionRequestHandler!({}, permission, (g) => (granted = g), {});
      expect(granted, permission).toBe(false);
      expect(session.permissionCheckHandler!({}, permission, 'app://usfm', {}), permission).toBe(false);
    }
    expect(session.devicePermissionHandler!({ deviceType: 'usb' })).toBe(false);
  });

  it('cancels every request to the network', () => {
    const session = new FakeSession();
    blockRemoteRequests(session as unknown as Session);
    expect(session.requestFilters).toHaveLength(1);
    expect(session.requestFilters[0]!.urls).toEqual(REMOTE_URL_PATTERNS);
    expect(REMOTE_URL_PATTERNS).toEqual(
      expect.arrayContaining(['http://*/*', 'https://*/*', 'ws://*/*', 'wss://*/*']),
    );
    let response: { cancel?: boolean } | null = null;
    session.requestFilters[0]!.listener({ url: 'https://tracker.example/collect' }, (r) => (response = r));
    expect(response).toEqual({ cancel: true });
  });
});

describe('IPC sender check', () => {
  const event = (contents: FakeWebContents, frame: FakeWebFrame | null): IpcMainInvokeEvent =>
    contents.invokeEvent(frame);

  it('trusts only the main frame of a page on app://usfm', () => {
    const contents = new FakeWebContents();
    contents.mainFrame.url = 'app://usfm/index.html';
    expect(isTrustedSender(event(contents, contents.mainFrame))).toBe(true);

    const subframe = new FakeWebFrame('app://usfm/index.html', contents.mainFrame);
    expect(isTrustedSender(event(contents, subframe))).toBe(false);
    expect(isTrustedSender(event(contents, null))).toBe(false);

    for (const url of [
      'https://example.org/',
      'file:///tmp/index.html',
      'app://evil/index.html',
      'app://user@usfm/index.html',
      '',
    ]) {
      contents.mainFrame.url = url;
      expect(isTrustedSender(event(contents, contents.mainFrame)), url).toBe(false);
    }
  });

  it('recognises the app origin exactly', () => {
    expect(isAppUrl('app://usfm/index.html')).toBe(true);
    expect(isAppUrl('app://usfm')).toBe(true);
    expect(isAppUrl('app://usfm.evil/index.html')).toBe(false);
    expect(isAppUrl('app://usfm:8080/')).toBe(false);
    expect(isAppUrl('apps://usfm/')).toBe(false);
    expect(isAppUrl('not a url')).toBe(false);
    expect(isAppUrl(null)).toBe(false);
  });
});

describe('main window', () => {
  it('uses the secure web preferences', () => {
    FakeBrowserWindow.instances = [];
    const win = createMainWindow({
      BrowserWindow: FakeBrowserWindow as unknown as typeof BrowserWindow,
      preloadPath: '/app/dist/electron/preload.cjs',
      devTools: false,
    });
    const fake = win as unknown as FakeBrowserWindow;
    const prefs = fake.options.webPreferences!;
    expect(prefs).toMatchObject({
      preload: '/app/dist/electron/preload.cjs',
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      experimentalFeatures: false,
      devTools: false,
    });
    expect(prefs).not.toHaveProperty('enableRemoteModule');
    expect(prefs.enableBlinkFeatures).toBeUndefined();
    expect(fake.options.show).toBe(false);
    expect(secureWebPreferences('/p', true).devTools).toBe(true);
  });

  it('loads app://usfm/index.html, is hardened and shows when ready', async () => {
    FakeBrowserWindow.instances = [];
    const win = createMainWindow({
      BrowserWindow: FakeBrowserWindow as unknown as typeof BrowserWindow,
      preloadPath: '/p.cjs',
      devTools: false,
    });
    const fake = win as unknown as FakeBrowserWindow;
    await Promise.resolve();
    expect(fake.loadedUrl).toBe(APP_ENTRY_URL);
    expect(APP_ENTRY_URL).toBe('app://usfm/index.html');
    expect(fake.visible).toBe(true);
    expect(fake.webContents.attempt('will-navigate', 'https://example.org').defaultPrevented).toBe(true);
    expect(
      fake.webContents.windowOpenHandler!({
        url: 'https://example.org',
        frameName: '',
        disposition: 'foreground-tab',
      }),
    ).toEqual({ action: 'deny' });
  });

  it('focusWindow restores a minimised window and brings it forward', () => {
    const fake = new FakeBrowserWindow();
    fake.minimized = true;
    expect(focusWindow(fake as unknown as BrowserWindow)).toBe(true);
    expect(fake.restoreCount).toBe(1);
    expect(fake.focusCount).toBe(1);
    expect(fake.visible).toBe(true);
    fake.close();
    expect(focusWindow(fake as unknown as BrowserWindow)).toBe(false);
    expect(focusWindow(null)).toBe(false);
  });
});
