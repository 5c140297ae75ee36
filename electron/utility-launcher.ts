/**
 * Job processes in the desktop app: Electron's utilityProcess (a Node.js child process managed by
 * Electron, which works with the runAsNode fuse off, unlike child_process.fork of the app binary).
 * The job entry (main/jobs/worker.ts) talks over `process.parentPort` there.
 */
import type { UtilityProcess, UtilityProcessModule } from 'electron';
import { tailBuffer, workerEntry, type JobLauncher, type JobProcess } from '../main/jobs/launcher';
import { isFromWorker, type FromWorker } from '../main/jobs/protocol';

export interface UtilityLauncherOptions {
  entry?: () => { file: string; execArgv: string[] };
  env?: NodeJS.ProcessEnv;
}

function extraExecArgv(): string[] {
  return process.env.USFM_JOB_NODE_OPTIONS?.split(/\s+/).filter(Boolean) ?? [];
}

/** Adapt a forked utility process to the runner's JobProcess interface. */
export function adaptUtilityProcess(child: UtilityProcess): JobProcess {
  const stderr = tailBuffer();
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr.push(chunk);
    if (process.env.USFM_JOB_STDERR === 'inherit') process.stderr.write(chunk);
  });
  child.stdout?.on('data', () => {
    /* job output goes through the parent port; stdout is drained so the pipe never blocks */
  });
  // V8 fatal errors (out of memory) are reported as an event, not on stderr: keep them for the crash report.
  child.on('error', (type, location) =>
    stderr.push(
      `\n${type} at ${location}: ${/oom|memory/i.test(`${type} ${location}`) ? 'out of memory' : 'fatal error'}\n`,
    ),
  );
  let exited = false;
  let killedWith: NodeJS.Signals | null = null;
  child.on('exit', () => (exited = true));
  return {
    get pid() {
      return child.pid;
    },
    send(message) {
      if (!exited) child.postMessage(message);
    },
    // utilityProcess.kill() sends SIGTERM, which the job process treats as "cancel"; the runner's kill
    // means "stop now", so signal the process directly once its pid is known.
    kill(signal = 'SIGKILL') {
      if (exited) return;
      const pid = child.pid;
      if (pid === undefined) {
        child.kill();
        return;
      }
      try {
        process.kill(pid, signal);
        killedWith = signal;
      } catch {
        child.kill();
      }
    },
    onMessage(listener) {
      child.on('message', (message) => {
        if (isFromWorker(message)) listener(message as FromWorker);
      });
    },
    onExit(listener) {
      child.on('exit', (code) => listener(killedWith ? null : code, killedWith));
    },
    stderrTail: () => stderr.text(),
  };
}

export function createUtilityLauncher(
  utilityProcess: UtilityProcessModule,
  options: UtilityLauncherOptions = {},
): JobLauncher {
  return ({ jobId, kind }) => {
    const entry = (options.entry ?? workerEntry)();
    const child = utilityProcess.fork(entry.file, [`--job=${jobId}`, `--kind=${kind}`], {
      serviceName: `USFM job ${kind}`,
      stdio: 'pipe',
      execArgv: [...entry.execArgv, ...extraExecArgv()],
      env: { ...(options.env ?? process.env), USFM_JOB_ID: jobId },
    });
    return adaptUtilityProcess(child);
  };
}
