/**
 * The TensorFlow.js backend probe in the desktop app. The CLI runs it with `process.execPath` and
 * ELECTRON_RUN_AS_NODE, which the packaged app's runAsNode fuse disables (it would start a second app
 * instance), so here it runs in a utilityProcess and its report is read from stdout.
 */
import path from 'node:path';
import type { UtilityProcessModule } from 'electron';
import { BackendReport } from '../main/api/contract';
import { appRoot, runningFromSource } from '../main/config/paths';

const PROBE_TIMEOUT_MS = 60_000;
const LATE_OUTPUT_MS = 2_000;

export function probeEntry(): { file: string; execArgv: string[] } {
  if (runningFromSource())
    return { file: path.join(appRoot(), 'main', 'ml', 'backend-probe.ts'), execArgv: ['--import', 'tsx'] };
  return { file: path.join(appRoot(), 'dist', 'main', 'backend-probe.mjs'), execArgv: [] };
}

export function createUtilityProbe(
  utilityProcess: UtilityProcessModule,
  entry: () => { file: string; execArgv: string[] } = probeEntry,
): (setting: string, wasmThreads: number) => Promise<BackendReport> {
  return (setting, wasmThreads) =>
    new Promise((resolve, reject) => {
      const { file, execArgv } = entry();
      const child = utilityProcess.fork(file, [setting, String(wasmThreads)], {
        serviceName: 'USFM backend probe',
        stdio: 'pipe',
        execArgv,
      });
      const out = child.stdout;
      let stdout = '';
      let stderr = '';
      let settled = false;
      const settle = (error: Error | null, report?: BackendReport): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (error) reject(error);
        else resolve(report!);
      };
      // The report is the first complete JSON line: settle on it rather than on exit, whose event
      // can overtake the last stdout chunk.
      const onData = (chunk: Buffer): void => {
        stdout += chunk.toString();
        const line = stdout.split('\n').find((l, i, all) => i < all.length - 1 && l.trim().startsWith('{'));
        if (!line) return;
        try {
          settle(null, BackendReport.parse(JSON.parse(line)));
        } catch (err) {
          settle(new Error(`backend probe printed an unreadable report: ${(err as Error).message}`));
        }
      };
      out?.on('data', onData);
      child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4096)));
      const timer = setTimeout(() => {
        child.kill();
        settle(new Error(`backend probe did not answer within ${PROBE_TIMEOUT_MS / 1000} s`));
      }, PROBE_TIMEOUT_MS);
      child.on('exit', (code) => {
        if (settled) return;
        if (code !== 0) {
          settle(
            new Error(
              `backend probe failed: ${(stderr.trim().split('\n')[0] || `exit code ${code}`).slice(0, 300)}`,
            ),
          );
          return;
        }
        // Electron drops stream listeners on exit: listen again for a late chunk, briefly.
        out?.on('data', onData);
        setTimeout(() => settle(new Error('backend probe exited without a report')), LATE_OUTPUT_MS).unref();
      });
    });
}
