import { fork } from 'node:child_process';
import path from 'node:path';
import { appRoot, runningFromSource } from '../config/paths';
import type { FromWorker, ToWorker } from './protocol';

/** A running job process, whatever started it (child_process.fork or Electron's utilityProcess). */
export interface JobProcess {
  readonly pid: number | undefined;
  send(message: ToWorker): void;
  kill(signal?: NodeJS.Signals): void;
  onMessage(listener: (message: FromWorker) => void): void;
  onExit(listener: (code: number | null, signal: NodeJS.Signals | null) => void): void;
  /** The last lines the process wrote to stderr: used to explain crashes (out of memory, aborts). */
  stderrTail(): string;
}

export type JobLauncher = (options: { jobId: string; kind: string }) => JobProcess;

/** The job-process entry: TypeScript source under tsx in development and tests, the bundle otherwise. */
export function workerEntry(): { file: string; execArgv: string[] } {
  if (runningFromSource()) {
    return { file: path.join(appRoot(), 'main', 'jobs', 'worker.ts'), execArgv: ['--import', 'tsx'] };
  }
  return { file: path.join(appRoot(), 'dist', 'main', 'job-worker.mjs'), execArgv: [] };
}

const STDERR_TAIL_BYTES = 8192;

export function tailBuffer(): { push(chunk: Buffer | string): void; text(): string } {
  let tail = '';
  return {
    push(chunk) {
      tail = (tail + chunk.toString()).slice(-STDERR_TAIL_BYTES);
    },
    text: () => tail,
  };
}

/** child_process.fork launcher, used in browser mode, the CLI and tests. */
export const forkLauncher: JobLauncher = ({ jobId, kind }) => {
  const entry = workerEntry();
  const child = fork(entry.file, [`--job=${jobId}`, `--kind=${kind}`], {
    execArgv: [...entry.execArgv, ...(process.env.USFM_JOB_NODE_OPTIONS?.split(/\s+/).filter(Boolean) ?? [])],
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    env: { ...process.env, USFM_JOB_ID: jobId },
    serialization: 'json',
  });
  const stderr = tailBuffer();
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr.push(chunk);
    if (process.env.USFM_JOB_STDERR === 'inherit') process.stderr.write(chunk);
  });
  child.stdout?.on('data', () => {
    /* job output goes through the channel; stdout is drained so the pipe never blocks */
  });
  return {
    pid: child.pid,
    send(message) {
      if (child.connected) child.send(message);
    },
    kill(signal = 'SIGKILL') {
      child.kill(signal);
    },
    onMessage(listener) {
      child.on('message', (m) => listener(m as FromWorker));
    },
    onExit(listener) {
      child.on('exit', (code, signal) => listener(code, signal));
    },
    stderrTail: () => stderr.text(),
  };
};
