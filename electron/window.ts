import type { BrowserWindow, BrowserWindowConstructorOptions, WebPreferences } from 'electron';
import { APP_ENTRY_URL } from './constants';
import { hardenWebContents } from './security';

/**
 * The renderer runs as an untrusted web page: isolated context, OS sandbox, no Node.js anywhere
 * (main frame, workers, subframes), same-origin policy on, no <webview>, no experimental features.
 * Its only door to the app is the preload's `window.usfm`.
 */
export function secureWebPreferences(preloadPath: string, devTools: boolean): WebPreferences {
  return {
    preload: preloadPath,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    webviewTag: false,
    experimentalFeatures: false,
    navigateOnDragDrop: false,
    enableWebSQL: false,
    safeDialogs: true,
    spellcheck: false,
    devTools,
  };
}

export interface MainWindowDeps {
  BrowserWindow: typeof BrowserWindow;
  preloadPath: string;
  /** DevTools only in development builds. */
  devTools: boolean;
  url?: string;
}

export function mainWindowOptions(preloadPath: string, devTools: boolean): BrowserWindowConstructorOptions {
  return {
    width: 1440,
    height: 920,
    minWidth: 960,
    minHeight: 640,
    show: false,
    title: 'USFM Workbench',
    backgroundColor: '#10151c',
    autoHideMenuBar: true,
    webPreferences: secureWebPreferences(preloadPath, devTools),
  };
}

/** Create the app window, harden its web contents and load app://usfm/index.html. */
export function createMainWindow(deps: MainWindowDeps): BrowserWindow {
  const win = new deps.BrowserWindow(mainWindowOptions(deps.preloadPath, deps.devTools));
  hardenWebContents(win.webContents);
  win.once('ready-to-show', () => win.show());
  win.loadURL(deps.url ?? APP_ENTRY_URL).catch((err: unknown) => {
    process.stderr.write(
      `[usfm] the window could not load the app: ${err instanceof Error ? err.message : String(err)}\n`,
    );
  });
  return win;
}

/** Bring a window to the front (used when a second instance is started). */
export function focusWindow(win: BrowserWindow | null): boolean {
  if (!win || win.isDestroyed()) return false;
  if (win.isMinimized()) win.restore();
  win.show();
  win.focus();
  return true;
}
