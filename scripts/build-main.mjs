#!/usr/bin/env node
// Production bundles of the Node side (esbuild):
//   dist/main/cli.mjs, job-worker.mjs, backend-probe.mjs, dicom-worker.mjs   (ESM, node_modules external)
//   dist/electron/main.mjs                                                   (ESM, node_modules + electron external)
//   dist/electron/preload.cjs                                                (CJS, self-contained except electron)
// node_modules stay external so native modules (better-sqlite3, tfjs-node) and the WASM files of
// tfjs-backend-wasm and the codecs are loaded from their packages as usual. Each bundle resolves its
// sibling entries through appRoot()/dist/main (main/config/paths.ts, main/jobs/launcher.ts).
//
// Options: --outdir DIR (default dist), --only preload|main|electron (repeatable).
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** ESM entries: [source, output path under outdir without extension]. Optional ones are built when present. */
const NODE_ENTRIES = [
  { in: 'main/cli/main.ts', out: 'main/cli' },
  { in: 'main/jobs/worker.ts', out: 'main/job-worker' },
  { in: 'main/ml/backend-probe.ts', out: 'main/backend-probe' },
  { in: 'main/dicom/pool-worker.ts', out: 'main/dicom-worker', optional: true },
];
const ELECTRON_MAIN = { in: 'electron/main.ts', out: 'electron/main' };
const PRELOAD = { in: 'electron/preload.ts', out: 'electron/preload.cjs' };

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
  legalComments: 'none',
  logLevel: 'warning',
  absWorkingDir: root,
  tsconfig: path.join(root, 'tsconfig.json'),
};

async function buildNode(outdir, entries) {
  const present = entries.filter((e) => !e.optional || fs.existsSync(path.join(root, e.in)));
  if (present.length === 0) return [];
  await esbuild.build({
    ...common,
    entryPoints: present.map((e) => ({ in: e.in, out: e.out })),
    outdir,
    format: 'esm',
    outExtension: { '.js': '.mjs' },
    packages: 'external',
    external: ['electron'],
  });
  return present.map((e) => path.join(outdir, `${e.out}.mjs`));
}

/** The contract's call names, read from the TypeScript sources at build time. */
async function contractCallNames() {
  const { tsImport } = await import('tsx/esm/api');
  const contract = await tsImport(
    pathToFileURL(path.join(root, 'main', 'api', 'contract', 'index.ts')).href,
    import.meta.url,
  );
  const names = contract.callNames;
  if (!Array.isArray(names) || names.length === 0 || !names.every((n) => typeof n === 'string')) {
    throw new Error('main/api/contract did not export a non-empty callNames list');
  }
  return names;
}

/**
 * The sandboxed preload may require only `electron`: everything else is bundled, and the contract
 * (zod schemas) is replaced by the literal list of call names.
 */
async function buildPreload(outdir) {
  const names = await contractCallNames();
  const outfile = path.join(outdir, PRELOAD.out);
  const callNamesPlugin = {
    name: 'usfm-call-names',
    setup(build) {
      build.onResolve({ filter: /^\.\/call-names$/ }, (args) =>
        args.importer.endsWith(path.join('electron', 'preload.ts'))
          ? { path: 'call-names', namespace: 'usfm-call-names' }
          : undefined,
      );
      build.onLoad({ filter: /.*/, namespace: 'usfm-call-names' }, () => ({
        contents: `export const callNames = ${JSON.stringify(names)};`,
        loader: 'js',
      }));
    },
  };
  await esbuild.build({
    ...common,
    entryPoints: [PRELOAD.in],
    outfile,
    format: 'cjs',
    external: ['electron'],
    plugins: [callNamesPlugin],
  });
  const code = fs.readFileSync(outfile, 'utf8');
  const required = [...code.matchAll(/\brequire\(\s*["']([^"']+)["']\s*\)/g)].map((m) => m[1]);
  const foreign = [...new Set(required)].filter((r) => r !== 'electron');
  if (foreign.length)
    throw new Error(`the preload must be self-contained, but requires: ${foreign.join(', ')}`);
  return [outfile];
}

/** The native kernels (main/ml/native, built by npm install) travel with the bundles as dist/native/usfm_native.node. */
function copyNativeAddon(outdir) {
  const built = path.join(root, 'main', 'ml', 'native', 'build', 'Release', 'usfm_native.node');
  if (!fs.existsSync(built)) {
    console.log('native kernels not built (npm run build:native): the bundle uses the WASM kernels only');
    return [];
  }
  const target = path.join(outdir, 'native', 'usfm_native.node');
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.copyFileSync(built, target);
  return [target];
}

async function main() {
  const { values } = parseArgs({
    options: { outdir: { type: 'string' }, only: { type: 'string', multiple: true } },
    strict: true,
  });
  const outdir = path.resolve(root, values.outdir ?? 'dist');
  const only = new Set(values.only ?? ['main', 'electron', 'preload']);
  const started = performance.now();
  const outputs = [];
  if (only.has('main')) {
    outputs.push(...(await buildNode(outdir, NODE_ENTRIES)));
    outputs.push(...copyNativeAddon(outdir));
  }
  if (only.has('electron')) outputs.push(...(await buildNode(outdir, [ELECTRON_MAIN])));
  if (only.has('preload')) outputs.push(...(await buildPreload(outdir)));
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  const sizes = outputs.map(
    (f) => `${path.relative(root, f)} ${(fs.statSync(f).size / 1024).toFixed(0)} KiB`,
  );
  process.stdout.write(
    `build:main: ${outputs.length} bundle(s) in ${seconds} s\n${sizes.map((s) => `  ${s}`).join('\n')}\n`,
  );
}

main().catch((err) => {
  process.stderr.write(`build:main failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
