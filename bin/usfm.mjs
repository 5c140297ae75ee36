#!/usr/bin/env node
// The `usfm` command: runs the TypeScript sources through tsx in a development checkout,
// the bundled build otherwise (packaged app).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const source = path.join(root, 'main', 'cli', 'main.ts');
let entry;
if (fs.existsSync(source)) {
  const { register } = await import('tsx/esm/api');
  register();
  entry = source;
} else {
  entry = path.join(root, 'dist', 'main', 'cli.mjs');
}
await import(pathToFileURL(entry).href);
