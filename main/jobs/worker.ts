/**
 * Entry point of a job process (child_process.fork in browser mode and the CLI, Electron's
 * utilityProcess in the desktop app). It runs exactly one job, reports over the parent channel and exits.
 */
import { openCatalog, type Catalog } from '../catalog/db';
import { jobKinds } from './kinds';
import { JobFailure, JobStopped, type JobContext } from './job-kind';
import { isFromWorker, type FromWorker, type ToWorker } from './protocol';
import { redactPaths } from '../api/errors';

interface ParentPort {
  postMessage(message: unknown): void;
  on(event: 'message', listener: (event: { data: unknown }) => void): void;
}

// Electron's utilityProcess exposes process.parentPort; a forked Node process has process.send.
const parentPort = (process as unknown as { parentPort?: ParentPort }).parentPort;

function send(message: FromWorker): void {
  if (parentPort) parentPort.postMessage(message);
  else if (process.send) process.send(message);
}

function onMessage(listener: (message: ToWorker) => void): void {
  const accept = (value: unknown): void => {
    if (isFromWorker(value)) listener(value as unknown as ToWorker);
  };
  if (parentPort) parentPort.on('message', (event) => accept(event.data));
  else process.on('message', accept);
}

const controller = new AbortController();
let stopReason: 'cancel' | 'shutdown' | null = null;
let started = false;
let catalog: Catalog | null = null;

function stop(reason: 'cancel' | 'shutdown'): void {
  if (stopReason) return;
  stopReason = reason;
  controller.abort(reason);
}

async function runJob(message: Extract<ToWorker, { type: 'start' }>): Promise<number> {
  const load = jobKinds[message.kind];
  if (!load) {
    send({ type: 'failed', error: { code: 'UNKNOWN_JOB_KIND', message: `unknown job kind "${message.kind}"` } });
    return 1;
  }
  const ctx: JobContext = {
    jobId: message.jobId,
    dataDir: message.dataDir,
    settings: message.settings,
    signal: controller.signal,
    stopReason: () => stopReason,
    progress: (progress) => send({ type: 'progress', progress }),
    log: (level, text) => send({ type: 'log', level, message: text }),
    catalog: () => (catalog ??= openCatalog(message.dataDir)),
  };
  try {
    const kind = await load();
    const parsed = kind.params.safeParse(message.params);
    if (!parsed.success) {
      send({ type: 'failed', error: { code: 'BAD_PARAMS', message: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') } });
      return 1;
    }
    const result = await kind.run(parsed.data as never, ctx);
    if (stopReason) {
      send({ type: 'stopped', reason: stopReason });
      return 0;
    }
    send({ type: 'result', result: result ?? null });
    return 0;
  } catch (err) {
    if (err instanceof JobStopped || (stopReason && controller.signal.aborted)) {
      send({ type: 'stopped', reason: stopReason ?? (err as JobStopped).reason });
      return 0;
    }
    const code = err instanceof JobFailure ? err.code : 'JOB_ERROR';
    const text = err instanceof Error ? err.message : String(err);
    if (!(err instanceof JobFailure) && err instanceof Error && err.stack) {
      // The stack stays in the job's own stderr (the app log), never in what the renderer sees.
      process.stderr.write(`${err.stack}\n`);
    }
    send({ type: 'failed', error: { code, message: redactPaths(text) } });
    return 1;
  } finally {
    catalog?.close();
  }
}

onMessage((message) => {
  switch (message.type) {
    case 'start':
      if (started) return;
      started = true;
      void runJob(message).then((code) => {
        // Give the IPC channel a moment to flush before exiting.
        setTimeout(() => process.exit(code), 20);
      });
      break;
    case 'cancel':
      stop('cancel');
      break;
    case 'shutdown':
      stop('shutdown');
      break;
  }
});

// `usfm jobs cancel` from another process signals the job process directly.
process.on('SIGTERM', () => stop('cancel'));

// If the app dies, the channel closes: checkpoint and stop rather than run orphaned.
process.on('disconnect', () => {
  stop('shutdown');
  setTimeout(() => process.exit(0), 30_000).unref();
});

send({ type: 'ready', pid: process.pid });
