/**
 * The desktop app's lifecycle, written against injected Electron modules so tests can drive it with
 * fakes: privileged scheme and sandbox before `ready`, the single-instance lock, hardening, the app
 * context with utilityProcess jobs, IPC, the window, and an orderly shutdown that lets jobs checkpoint.
 */
import path from 'node:path';
import type { App, BrowserWindow, Dialog, IpcMain, Protocol, Session, UtilityProcessModule } from 'electron';
import { createApp } from '../main/app/create-app';
import { startupTasks } from '../main/app/startup';
import type { AppContext } from '../main/app/context';
import { handleAppProtocol, registerAppScheme } from './protocol';
import { blockRemoteRequests, denyAllPermissions, hardenWebContents } from './security';
import { forwardEvents, registerIpc } from './ipc';
import { createMainWindow, focusWindow } from './window';
import { createUtilityLauncher } from './utility-launcher';
import { createUtilityProbe } from './utility-probe';

export interface ElectronModules {
  app: App;
  BrowserWindow: typeof BrowserWindow;
  protocol: Protocol;
  ipcMain: IpcMain;
  session: { readonly defaultSession: Session };
  utilityProcess: UtilityProcessModule;
  dialog: Dialog;
}

export interface DesktopOptions {
  argv: readonly string[];
  env: NodeJS.ProcessEnv;
  rendererDir: string;
  preloadPath: string;
}

export interface DesktopApp {
  ctx: AppContext;
  mainWindow(): BrowserWindow | null;
}

/** `--data-dir DIR` / `--data-dir=DIR`, else USFM_DATA_DIR, else Electron's userData folder. */
export function resolveDesktopDataDir(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  userData: () => string,
): string {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--data-dir' && argv[i + 1]) return path.resolve(argv[i + 1]!);
    if (arg.startsWith('--data-dir=') && arg.length > '--data-dir='.length)
      return path.resolve(arg.slice('--data-dir='.length));
  }
  if (env.USFM_DATA_DIR) return path.resolve(env.USFM_DATA_DIR);
  return userData();
}

/** Resolves with the running app, or null when another instance holds the lock (this one quits). */
export async function startDesktopApp(
  electron: ElectronModules,
  options: DesktopOptions,
): Promise<DesktopApp | null> {
  const { app } = electron;
  // Both must happen before `ready`.
  registerAppScheme(electron.protocol);
  app.enableSandbox();

  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return null;
  }

  let mainWindow: BrowserWindow | null = null;
  // A second instance started before the app context exists has no window to focus yet.
  let ctxReady = false;
  const openWindow = (): BrowserWindow => {
    mainWindow = createMainWindow({
      BrowserWindow: electron.BrowserWindow,
      preloadPath: options.preloadPath,
      devTools: !app.isPackaged,
    });
    mainWindow.on('closed', () => (mainWindow = null));
    return mainWindow;
  };
  app.on('second-instance', () => {
    if (!focusWindow(mainWindow) && ctxReady) openWindow();
  });
  app.on('web-contents-created', (_event, contents) => hardenWebContents(contents));

  await app.whenReady();
  const defaultSession = electron.session.defaultSession;
  denyAllPermissions(defaultSession);
  blockRemoteRequests(defaultSession);
  handleAppProtocol(electron.protocol, options.rendererDir);

  const dataDir = resolveDesktopDataDir(options.argv, options.env, () => app.getPath('userData'));
  let ctx: AppContext;
  try {
    ctx = createApp({
      dataDir,
      mode: 'electron',
      launcher: createUtilityLauncher(electron.utilityProcess),
      probeBackend: createUtilityProbe(electron.utilityProcess),
    });
  } catch (err) {
    electron.dialog.showErrorBox(
      'USFM Workbench cannot start',
      `The data folder could not be opened.\n\n${err instanceof Error ? err.message : String(err)}`,
    );
    app.exit(1);
    return null;
  }
  ctxReady = true;

  const unregisterIpc = registerIpc(electron.ipcMain, ctx);
  const stopEvents = forwardEvents(ctx.events, () => electron.BrowserWindow.getAllWindows());
  openWindow();

  app.on('activate', () => {
    if (!mainWindow) openWindow();
  });
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });

  // Quit waits for running jobs to checkpoint and stop (ctx.close), then quits for real.
  let shutdown: 'running' | 'closing' | 'closed' = 'running';
  app.on('before-quit', (event) => {
    if (shutdown === 'closed') return;
    event.preventDefault();
    if (shutdown === 'closing') return;
    shutdown = 'closing';
    stopEvents();
    ctx
      .close()
      .catch((err: unknown) =>
        process.stderr.write(`[usfm] shutdown: ${err instanceof Error ? err.message : String(err)}\n`),
      )
      .finally(() => {
        shutdown = 'closed';
        unregisterIpc();
        app.quit();
      });
  });

  void startupTasks(ctx).catch((err: unknown) =>
    process.stderr.write(`[usfm] startup task failed: ${(err as Error).message}\n`),
  );
  return { ctx, mainWindow: () => mainWindow };
}
