import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { PNG } from 'pngjs';
import { repoRoot } from '../../helpers/temp';

const require = createRequire(import.meta.url);

interface BuilderConfig {
  appId: string;
  productName: string;
  electronVersion: string;
  files: string[];
  asarUnpack: string[];
  npmRebuild: boolean;
  electronFuses: Record<string, boolean>;
  linux: {
    target: string[];
    category: string;
    maintainer: string;
    icon: string;
    desktop: { entry: Record<string, string> };
  };
  win: { target: { target: string; arch: string[] }[]; icon: string };
  nsis: {
    oneClick: boolean;
    perMachine: boolean;
    allowToChangeInstallationDirectory: boolean;
    deleteAppDataOnUninstall: boolean;
  };
}

const config = require(path.join(repoRoot, 'build', 'electron-builder.config.cjs')) as BuilderConfig;
const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as {
  main: string;
  productName: string;
  optionalDependencies: Record<string, string>;
  scripts: Record<string, string>;
};

describe('electron-builder configuration', () => {
  it('passes electron-builder’s own schema validation', async () => {
    const { validateConfiguration } = require('app-builder-lib/out/util/config/config') as {
      validateConfiguration(config: unknown, logger: unknown): Promise<void>;
    };
    const { DebugLogger } = require('builder-util') as { DebugLogger: new (enabled: boolean) => unknown };
    await expect(validateConfiguration(config, new DebugLogger(false))).resolves.toBeUndefined();
    // The validator is not a rubber stamp.
    await expect(
      validateConfiguration({ ...config, nsis: { ...config.nsis, oneClik: false } }, new DebugLogger(false)),
    ).rejects.toThrow(/configuration/i);
  });

  it('flips the security fuses', () => {
    expect(config.electronFuses).toMatchObject({
      runAsNode: false,
      enableCookieEncryption: true,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      enableEmbeddedAsarIntegrityValidation: true,
      onlyLoadAppFromAsar: true,
      grantFileProtocolExtraPrivileges: false,
    });
  });

  it('pins the Electron version of package.json and names the product', () => {
    const range = pkg.optionalDependencies.electron!;
    expect(config.electronVersion).toMatch(/^41\.\d+\.\d+$/);
    expect(range.replace(/^[\^~]/, '')).toBe(config.electronVersion);
    expect(config.productName).toBe('USFM Workbench');
    expect(pkg.productName).toBe(config.productName);
    expect(config.appId).toMatch(/^[a-z]+(\.[a-z0-9-]+)+$/);
    expect(pkg.scripts.dist).toContain('build/electron-builder.config.cjs');
  });

  it('ships the bundles, not the sources or tests, and the main entry is the bundle', () => {
    expect(config.files).toEqual(expect.arrayContaining(['package.json', 'dist/**/*', 'resources/**/*']));
    const exclusions = config.files.filter((f) => f.startsWith('!')).join(' ');
    for (const folder of ['main', 'electron', 'renderer', 'tests', 'scripts'])
      expect(exclusions).toContain(folder);
    expect(exclusions).toContain('*.map');
    expect(pkg.main).toBe('dist/electron/main.mjs');
    const buildScript = fs.readFileSync(path.join(repoRoot, 'scripts', 'build-main.mjs'), 'utf8');
    expect(buildScript).toContain("out: 'electron/main'");
    expect(buildScript).toContain("out: 'electron/preload.cjs'");
  });

  it('unpacks native modules and WASM files from the asar', () => {
    expect(config.asarUnpack).toEqual(
      expect.arrayContaining([
        '**/*.node',
        'node_modules/@tensorflow/tfjs-node/**',
        'node_modules/@tensorflow/tfjs-node-gpu/**',
        'node_modules/@tensorflow/tfjs-backend-wasm/dist/*.wasm',
        'node_modules/@cornerstonejs/codec-*/dist/*.wasm',
      ]),
    );
    // The patterns point at files that exist in the installed packages.
    expect(
      fs.existsSync(
        path.join(
          repoRoot,
          'node_modules',
          '@tensorflow',
          'tfjs-backend-wasm',
          'dist',
          'tfjs-backend-wasm.wasm',
        ),
      ),
    ).toBe(true);
    const codecs = fs
      .readdirSync(path.join(repoRoot, 'node_modules', '@cornerstonejs'))
      .filter((d) => d.startsWith('codec-'));
    expect(
      codecs.some((c) =>
        fs
          .readdirSync(path.join(repoRoot, 'node_modules', '@cornerstonejs', c, 'dist'))
          .some((f) => f.endsWith('.wasm')),
      ),
    ).toBe(true);
    expect(config.npmRebuild).toBe(true);
  });

  it('builds AppImage and deb for Linux and an assisted per-machine NSIS installer for Windows', () => {
    expect(config.linux.target).toEqual(['AppImage', 'deb']);
    expect(config.linux.category).toBe('Science');
    expect(config.linux.desktop.entry.Categories).toBe('Science;MedicalSoftware;');
    expect(config.linux.maintainer).toMatch(/<[^>]+@[^>]+>/);
    expect(config.win.target).toEqual([{ target: 'nsis', arch: ['x64'] }]);
    expect(config.nsis).toMatchObject({
      oneClick: false,
      perMachine: true,
      allowToChangeInstallationDirectory: true,
      deleteAppDataOnUninstall: false,
    });
  });

  it('has a 512x512 icon', () => {
    expect(config.linux.icon).toBe('build/icon.png');
    expect(config.win.icon).toBe('build/icon.png');
    const icon = PNG.sync.read(fs.readFileSync(path.join(repoRoot, 'build', 'icon.png')));
    expect([icon.width, icon.height]).toEqual([512, 512]);
    // Not blank: opaque pixels in the middle, transparent corners (rounded square).
    const alpha = (x: number, y: number): number => icon.data[(y * icon.width + x) * 4 + 3]!;
    expect(alpha(256, 300)).toBe(255);
    expect(alpha(0, 0)).toBe(0);
  });
});
