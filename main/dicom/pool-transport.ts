import { fork } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { appRoot, runningFromSource } from '../config/paths';
import type { FromDecodeWorker, ToDecodeWorker } from './pool-protocol';

/**
 * How DecodePool talks to one isolated decoder: a child process (default in plain Node) or a worker
 * thread (inside Electron, where `child_process.fork` would start the Electron binary because the
 * packaged app has the runAsNode fuse off). Both run the same entry, `pool-worker.ts`.
 */
export type DecodeIsolation = 'process' | 'thread';

/** Why a decoder stopped without being asked to. */
export interface DecoderExit {
  outOfMemory: boolean;
  /** "exit code 1", "SIGKILL", ... (no paths, no data). */
  detail: string;
}

export interface DecoderTransport {
  /** Process id, or thread id in thread mode. */
  readonly id: number | undefined;
  readonly kind: DecodeIsolation;
  send(message: ToDecodeWorker): void;
  onMessage(listener: (message: FromDecodeWorker) => void): void;
  /** Called once, when the decoder ends for any reason other than stop(). */
  onExit(listener: (exit: DecoderExit) => void): void;
  /** An idle decoder must not keep the application alive; a busy one must. */
  setBusy(busy: boolean): void;
  /** Kill now (SIGKILL / terminate()); resolves when it is gone. */
  stop(): Promise<void>;
}

export interface DecoderEntry {
  file: string;
  execArgv: string[];
}

/** The worker entry: TypeScript under tsx in development and tests, the bundled worker otherwise. */
export function decodeWorkerEntry(): DecoderEntry {
  if (runningFromSource()) {
    return { file: path.join(appRoot(), 'main', 'dicom', 'pool-worker.ts'), execArgv: ['--import', 'tsx'] };
  }
  return { file: path.join(appRoot(), 'dist', 'main', 'dicom-worker.mjs'), execArgv: [] };
}

/** USFM_DECODE_ISOLATION=thread|process wins; otherwise threads inside Electron, processes in Node. */
export function defaultDecodeIsolation(): DecodeIsolation {
  const forced = process.env.USFM_DECODE_ISOLATION;
  if (forced === 'thread' || forced === 'process') return forced;
  return process.versions.electron ? 'thread' : 'process';
}

const STDERR_TAIL = 4096;
const OUT_OF_MEMORY = /heap out of memory|Allocation failed|out of memory/i;

export function startDecoderProcess(entry: DecoderEntry, maxOldSpaceMb: number): DecoderTransport {
  const child = fork(entry.file, [], {
    execArgv: [...entry.execArgv, `--max-old-space-size=${maxOldSpaceMb}`],
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    serialization: 'advanced',
  });
  let stderr = '';
  let stopping = false;
  let exitListener: ((exit: DecoderExit) => void) | null = null;
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-STDERR_TAIL);
  });
  child.on('error', () => {
    /* reported through 'exit' */
  });
  child.once('exit', (code, signal) => {
    if (stopping) return;
    exitListener?.({ outOfMemory: OUT_OF_MEMORY.test(stderr), detail: signal ?? `exit code ${code}` });
  });
  const channel = (): { ref?: () => void; unref?: () => void } | null | undefined =>
    child.channel as { ref?: () => void; unref?: () => void } | null | undefined;
  return {
    id: child.pid,
    kind: 'process',
    send: (message) => {
      if (child.connected) child.send(message);
    },
    onMessage: (listener) => child.on('message', listener),
    onExit: (listener) => {
      exitListener = listener;
    },
    setBusy: (busy) => {
      if (busy) {
        child.ref();
        channel()?.ref?.();
      } else {
        child.unref();
        channel()?.unref?.();
      }
    },
    stop: () => {
      stopping = true;
      if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
      child.ref(); // keep the loop alive until the exit is seen
      return new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGKILL');
      });
    },
  };
}

/**
 * Source mode needs tsx inside the thread: worker threads do not inherit `--import tsx`, so a small
 * bootstrap loads the TypeScript entry through tsx's API. The bundled `.mjs` entry is started directly.
 */
function threadEntry(entry: DecoderEntry): { file: string; workerData: unknown } {
  if (!entry.file.endsWith('.ts')) return { file: entry.file, workerData: null };
  return {
    file: path.join(path.dirname(entry.file), 'pool-thread-bootstrap.mjs'),
    workerData: { tsEntry: pathToFileURL(entry.file).href },
  };
}

export function startDecoderThread(entry: DecoderEntry, maxOldSpaceMb: number): DecoderTransport {
  const { file, workerData } = threadEntry(entry);
  const worker = new Worker(file, {
    workerData,
    // The V8 heap limit of the thread (ArrayBuffers and WASM memory are outside it, as with processes).
    resourceLimits: { maxOldGenerationSizeMb: maxOldSpaceMb },
    stdout: true, // codec chatter must not reach our output
    stderr: true,
  });
  worker.stdout.resume();
  worker.stderr.resume();
  let stopping = false;
  let exited = false;
  let outOfMemory = false;
  let errorName = '';
  let exitListener: ((exit: DecoderExit) => void) | null = null;
  worker.on('error', (err: Error & { code?: string }) => {
    if (err.code === 'ERR_WORKER_OUT_OF_MEMORY' || OUT_OF_MEMORY.test(err.message)) outOfMemory = true;
    errorName = err.code ?? err.name;
  });
  worker.once('exit', (code) => {
    exited = true;
    if (stopping) return;
    exitListener?.({
      outOfMemory,
      detail: errorName ? `${errorName}, exit code ${code}` : `exit code ${code}`,
    });
  });
  return {
    id: worker.threadId,
    kind: 'thread',
    send: (message) => {
      if (!exited) worker.postMessage(message);
    },
    onMessage: (listener) => worker.on('message', listener),
    onExit: (listener) => {
      exitListener = listener;
    },
    setBusy: (busy) => (busy ? worker.ref() : worker.unref()),
    stop: async () => {
      stopping = true;
      if (exited) return;
      worker.ref();
      await worker.terminate();
    },
  };
}
