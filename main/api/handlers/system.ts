import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { systemCalls } from '../contract/system';
import type { HandlerSet } from './types';
import { appRoot } from '../../config/paths';

let packageVersion: string | null = null;
function appVersion(): string {
  packageVersion ??= (
    JSON.parse(fs.readFileSync(path.join(appRoot(), 'package.json'), 'utf8')) as { version: string }
  ).version;
  return packageVersion;
}

function dependencyVersion(name: string): string | null {
  try {
    const file = path.join(appRoot(), 'node_modules', ...name.split('/'), 'package.json');
    return (JSON.parse(fs.readFileSync(file, 'utf8')) as { version: string }).version;
  } catch {
    return null;
  }
}

export const systemHandlers: HandlerSet<keyof typeof systemCalls> = {
  async 'app.info'(_input, ctx) {
    const versions: Record<string, string> = { node: process.versions.node };
    if (process.versions.electron) versions.electron = process.versions.electron;
    for (const dep of ['@tensorflow/tfjs-core', 'better-sqlite3', 'dicom-parser', 'vue']) {
      const v = dependencyVersion(dep);
      if (v) versions[dep] = v;
    }
    return {
      app: { name: 'USFM Workbench', version: appVersion() },
      versions,
      platform: `${process.platform}-${process.arch}`,
      cpuCount: Math.max(1, os.availableParallelism()),
      mode: ctx.mode,
      dataDir: ctx.dataDir,
      backend: await ctx.backend(),
      catalog: ctx.catalog.stats(),
    };
  },
  'app.ping'(input) {
    return input.echo === undefined ? { pong: true } : { pong: true, echo: input.echo };
  },
  'settings.get'(_input, ctx) {
    return ctx.settings.get();
  },
  'settings.update'(input, ctx) {
    return ctx.settings.update(input);
  },
};
