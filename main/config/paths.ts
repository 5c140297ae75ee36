import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

export const PRODUCT_NAME = 'USFM Workbench';

/**
 * The per-user data directory, the same one Electron's `app.getPath('userData')` gives, so the
 * desktop app, browser mode and the CLI share one catalog. `--data-dir` and USFM_DATA_DIR override it.
 */
export function defaultDataDir(): string {
  const home = os.homedir();
  switch (process.platform) {
    case 'win32':
      return path.join(process.env.APPDATA ?? path.join(home, 'AppData', 'Roaming'), PRODUCT_NAME);
    case 'darwin':
      return path.join(home, 'Library', 'Application Support', PRODUCT_NAME);
    default:
      return path.join(process.env.XDG_CONFIG_HOME ?? path.join(home, '.config'), PRODUCT_NAME);
  }
}

export function resolveDataDir(explicit?: string | null): string {
  const chosen = explicit ?? process.env.USFM_DATA_DIR ?? defaultDataDir();
  return path.resolve(chosen);
}

/** The folder holding package.json: the repository in development, the app's resources when packaged. */
export function appRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('cannot locate the application root (package.json)');
    dir = parent;
  }
}

/** True when this code runs from TypeScript sources (development, tests) rather than a built bundle. */
export function runningFromSource(): boolean {
  return import.meta.url.endsWith('.ts');
}

export function resourcesDir(): string {
  return path.join(appRoot(), 'resources');
}

export function rendererDistDir(): string {
  return path.join(appRoot(), 'dist', 'renderer');
}
