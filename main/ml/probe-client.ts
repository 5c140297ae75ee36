import { execFile } from 'node:child_process';
import path from 'node:path';
import { appRoot, runningFromSource } from '../config/paths';
import { BackendReport } from '../api/contract';

/** Run the backend probe in a child process and parse its report. */
export function probeBackendInChild(setting: string, wasmThreads: number): Promise<BackendReport> {
  const source = runningFromSource();
  const file = source ? path.join(appRoot(), 'main', 'ml', 'backend-probe.ts') : path.join(appRoot(), 'dist', 'main', 'backend-probe.mjs');
  const args = [...(source ? ['--import', 'tsx'] : []), file, setting, String(wasmThreads)];
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { timeout: 60_000, env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' } }, (err, stdout, stderr) => {
      if (err) {
        reject(new Error(`backend probe failed: ${(stderr || err.message).trim().split('\n')[0]}`));
        return;
      }
      try {
        resolve(BackendReport.parse(JSON.parse(stdout.trim().split('\n').at(-1) ?? '')));
      } catch (parseErr) {
        reject(new Error(`backend probe printed an unreadable report: ${(parseErr as Error).message}`));
      }
    });
  });
}
