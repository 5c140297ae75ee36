#!/usr/bin/env node
// `npm start` (after `npm run build`): launches the desktop app with Electron. Where the Electron binary
// is missing (it is an optional dependency that downloads itself at install time, which fails offline),
// it says so in one line and serves browser mode instead, printing the URL to open.
// Arguments are passed through: `npm start -- --data-dir DIR` (and `--port N` in browser mode).
// USFM_START_MODE=browser forces browser mode even where Electron is installed.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);

/** The Electron binary's path, or null when the package or its downloaded binary is missing. */
function electronBinary() {
  try {
    // The `electron` package exports the binary's path; it throws when the download did not happen.
    const binary = createRequire(import.meta.url)('electron');
    return typeof binary === 'string' && fs.existsSync(binary) ? binary : null;
  } catch {
    return null;
  }
}

function forwardSignals(child) {
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.on(signal, () => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    });
  }
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

function startElectron(binary) {
  const env = { ...process.env };
  delete env.ELECTRON_RUN_AS_NODE;
  forwardSignals(spawn(binary, [root, ...args], { cwd: root, stdio: 'inherit', env }));
}

function startBrowserMode(reason) {
  process.stdout.write(`${reason}: starting browser mode instead\n`);
  const bundle = path.join(root, 'dist', 'main', 'cli.mjs');
  const cli = fs.existsSync(bundle) ? bundle : path.join(root, 'bin', 'usfm.mjs');
  const child = spawn(process.execPath, [cli, 'serve', '--json', ...args], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  forwardSignals(child);
  // `serve --json` announces itself as {"type":"listening","url":...}; other lines pass through.
  readline.createInterface({ input: child.stdout }).on('line', (line) => {
    let message = null;
    try {
      message = JSON.parse(line);
    } catch {
      /* plain text */
    }
    if (message?.type === 'listening' && typeof message.url === 'string')
      process.stdout.write(`Open: ${message.url}\n`);
    else if (message?.type === 'error') process.stderr.write(`usfm serve: ${message.message}\n`);
    else if (!message) process.stdout.write(`${line}\n`);
  });
}

if (process.env.USFM_START_MODE === 'browser') {
  startBrowserMode('Browser mode requested (USFM_START_MODE=browser)');
} else {
  const binary = electronBinary();
  if (binary) startElectron(binary);
  else startBrowserMode('Electron is not installed (offline install)');
}
