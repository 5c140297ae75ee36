/**
 * Electron main process entry (bundled to dist/electron/main.mjs). Only wiring: every piece lives in a
 * small module that tests drive with a mocked `electron`.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { app, BrowserWindow, dialog, ipcMain, protocol, session, utilityProcess } from 'electron';
import { rendererDistDir } from '../main/config/paths';
import { startDesktopApp } from './desktop-app';

const here = path.dirname(fileURLToPath(import.meta.url));

void startDesktopApp(
  { app, BrowserWindow, dialog, ipcMain, protocol, session, utilityProcess },
  {
    argv: process.argv,
    env: process.env,
    rendererDir: rendererDistDir(),
    preloadPath: path.join(here, 'preload.cjs'),
  },
).catch((err: unknown) => {
  process.stderr.write(
    `[usfm] the desktop app failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  app.exit(1);
});
