/**
 * `npm run bench [-- NAME...]`: runs every benchmark module in this folder (or the named ones) in turn.
 * Benchmarks print figures; they assert nothing (tests check behaviour).
 */
import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const wanted = process.argv.slice(2);
const modules = fs
  .readdirSync(here)
  .filter((f) => f.endsWith('.ts') && f !== 'run.ts' && !f.startsWith('_'))
  .map((f) => f.replace(/\.ts$/, ''))
  .filter((name) => wanted.length === 0 || wanted.includes(name))
  .sort();

console.log(
  `USFM Workbench benchmarks · ${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'unknown CPU'}) · Node ${process.version}`,
);
let failed = 0;
for (const name of modules) {
  console.log(`\n=== ${name} ===`);
  const started = Date.now();
  try {
    const mod = (await import(pathToFileURL(path.join(here, `${name}.ts`)).href)) as {
      bench?: () => Promise<void>;
    };
    if (typeof mod.bench !== 'function') throw new Error('module exports no bench()');
    await mod.bench();
  } catch (err) {
    failed++;
    console.error(`benchmark ${name} failed: ${err instanceof Error ? err.message : String(err)}`);
  }
  console.log(`(${name}: ${((Date.now() - started) / 1000).toFixed(1)} s)`);
}
process.exitCode = failed ? 1 : 0;
