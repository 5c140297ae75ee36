#!/usr/bin/env node
/**
 * Builds the optional native kernels (main/ml/native: matrix products on the WASM heap through
 * OpenBLAS or another cblas library) with node-gyp. Runs on `npm install` / `npm ci` (postinstall) and as
 * `npm run build:native`. A failed build never fails the install: training then keeps the WASM (XNNPACK)
 * products, and `usfm info` says why.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dir = path.join(root, 'main', 'ml', 'native');
const strict = process.argv.includes('--strict');

function nodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    path.resolve(
      path.dirname(process.execPath),
      '../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js',
    ),
    path.resolve(path.dirname(process.execPath), 'node_modules/npm/node_modules/node-gyp/bin/node-gyp.js'),
  ];
  return candidates.find((p) => p && fs.existsSync(p)) ?? null;
}

const gyp = nodeGyp();
if (!gyp) {
  console.log(
    '[usfm] native kernels not built: node-gyp not found (training uses the WASM matrix products)',
  );
  process.exit(strict ? 1 : 0);
}
const args = [gyp, 'rebuild', '--directory', dir];
// Offline machines: use the headers installed with Node instead of downloading them.
const headers = path.resolve(path.dirname(process.execPath), '..');
if (!process.env.npm_config_nodedir && fs.existsSync(path.join(headers, 'include', 'node', 'node_api.h')))
  args.push(`--nodedir=${headers}`);
const result = spawnSync(process.execPath, args, { cwd: dir, encoding: 'utf8' });
if (result.status === 0) {
  console.log('[usfm] native kernels built: main/ml/native/build/Release/usfm_native.node');
  process.exit(0);
}
const tail = `${result.stderr ?? ''}${result.stdout ?? ''}`.trim().split('\n').slice(-3).join(' | ');
console.log(
  `[usfm] native kernels not built (training uses the WASM matrix products): ${tail || result.error?.message}`,
);
process.exit(strict ? 1 : 0);
