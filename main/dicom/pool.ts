import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { appRoot, runningFromSource } from '../config/paths';
import { DicomError } from './errors';
import type { FromDecodeWorker, ToDecodeWorker } from './pool-protocol';
import type {
  DecodedDicom,
  DecodedFrame,
  DecodeOptions,
  DecodePoolOptions,
  DeidentifiedMetadata,
  DicomTechnicalInfo,
} from './types';

const DEFAULT_TIMEOUT_MS = 60_000;
const DEFAULT_MAX_OLD_SPACE_MB = 2048;
const STDERR_TAIL = 4096;

/** The child entry: TypeScript under tsx in development and tests, the bundled worker otherwise. */
export function decodeWorkerEntry(): { file: string; execArgv: string[] } {
  if (runningFromSource()) {
    return { file: path.join(appRoot(), 'main', 'dicom', 'pool-worker.ts'), execArgv: ['--import', 'tsx'] };
  }
  return { file: path.join(appRoot(), 'dist', 'main', 'dicom-worker.mjs'), execArgv: [] };
}

/** A streaming decode: info first, then frames on demand (the child decodes the next one when asked). */
export interface DecodeStream {
  info: DicomTechnicalInfo;
  deidentified?: DeidentifiedMetadata;
  /** Number of frames the stream will yield (after stride / maxFrames). */
  frameCount: number;
  frames: AsyncGenerator<DecodedFrame>;
}

interface Task {
  id: number;
  filePath: string;
  name: string;
  options: DecodeOptions;
  streaming: boolean;
  onMessage(message: FromDecodeWorker): void;
  onFailure(error: DicomError): void;
}

/** One child process; decodes one file at a time and is replaced after a crash or timeout. */
class DecodeWorker {
  private child: ChildProcess | null = null;
  private stderr = '';
  private current: Task | null = null;
  private timer: NodeJS.Timeout | null = null;
  private workStartedAt = 0;
  private workSpentMs = 0;
  private timeoutMs: number;

  constructor(
    private readonly options: Required<Pick<DecodePoolOptions, 'timeoutMs' | 'maxOldSpaceMb'>> &
      DecodePoolOptions,
  ) {
    this.timeoutMs = options.timeoutMs;
  }

  get busy(): boolean {
    return this.current !== null;
  }

  /** Start the child now (if not running) and wait until it has loaded the decoder. */
  warmUp(): Promise<void> {
    const child = this.child ?? this.spawn();
    return new Promise<void>((resolve, reject) => {
      if (this.readyChildren.has(child)) return resolve();
      const onMessage = (message: FromDecodeWorker): void => {
        if (message.type !== 'ready') return;
        child.off('message', onMessage);
        child.off('exit', onExit);
        resolve();
      };
      const onExit = (): void => reject(new Error('the decoder process exited while starting'));
      child.on('message', onMessage);
      child.once('exit', onExit);
    });
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  private readonly readyChildren = new WeakSet<ChildProcess>();

  private spawn(): ChildProcess {
    const entry = this.options.workerEntry ?? decodeWorkerEntry();
    const child = fork(entry.file, [], {
      execArgv: [...entry.execArgv, `--max-old-space-size=${this.options.maxOldSpaceMb}`],
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      serialization: 'advanced',
    });
    this.stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      this.stderr = (this.stderr + chunk.toString()).slice(-STDERR_TAIL);
    });
    child.on('message', (message: FromDecodeWorker) => this.onMessage(child, message));
    child.on('exit', (code, signal) => this.onExit(child, code, signal));
    child.on('error', () => {
      /* reported through 'exit' */
    });
    this.child = child;
    return child;
  }

  run(task: Task): void {
    this.current = task;
    this.workSpentMs = 0;
    const child = this.child ?? this.spawn();
    this.setRef(child, true);
    this.timeoutMs = task.options.timeoutMs ?? this.options.timeoutMs;
    this.send({
      type: 'decode',
      id: task.id,
      path: task.filePath,
      name: task.name,
      options: task.options,
      streaming: task.streaming,
    });
  }

  /** Ask for the next frame of a streaming task. */
  next(id: number): void {
    if (this.current?.id === id) this.send({ type: 'next', id });
  }

  cancel(id: number): void {
    if (this.current?.id === id) this.child?.send({ type: 'cancel', id } satisfies ToDecodeWorker);
  }

  private send(message: ToDecodeWorker): void {
    this.startClock();
    this.child?.send(message);
  }

  /**
   * The time limit counts only the child's working time, not the time a stream's consumer takes.
   * Returns false when the budget is already spent (the child has then been stopped).
   */
  private startClock(): boolean {
    this.stopClock();
    const remaining = this.timeoutMs - this.workSpentMs;
    if (remaining <= 0) {
      this.onTimeout();
      return false;
    }
    this.workStartedAt = Date.now();
    this.timer = setTimeout(() => this.onTimeout(), remaining);
    return true;
  }

  private stopClock(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
      this.workSpentMs += Date.now() - this.workStartedAt;
    }
  }

  private onMessage(child: ChildProcess, message: FromDecodeWorker): void {
    if (message.type === 'ready') this.readyChildren.add(child);
    if (child !== this.child || message.type === 'ready') return;
    const task = this.current;
    if (!task || message.id !== task.id) return;
    this.stopClock();
    if (message.type === 'done' || message.type === 'error') this.finish(child);
    else if (!task.streaming && !this.startClock()) return; // the child goes straight on with the next frame
    task.onMessage(message);
  }

  private finish(child: ChildProcess): void {
    this.current = null;
    this.setRef(child, false);
    this.onIdle?.();
  }

  onIdle: (() => void) | null = null;

  private onTimeout(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const task = this.current;
    const child = this.child;
    if (!task || !child) return;
    this.child = null;
    child.kill('SIGKILL');
    this.current = null;
    task.onFailure(
      new DicomError(
        'TIMEOUT',
        task.name,
        `decoding took longer than ${this.timeoutMs >= 1000 ? `${(this.timeoutMs / 1000).toFixed(1)} s` : `${this.timeoutMs} ms`} and was stopped`,
      ),
    );
    this.onIdle?.();
  }

  private onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (child !== this.child) return;
    this.child = null;
    this.stopClock();
    const task = this.current;
    this.current = null;
    if (!task) return;
    const outOfMemory = /heap out of memory|Allocation failed|out of memory/i.test(this.stderr);
    task.onFailure(
      outOfMemory
        ? new DicomError(
            'TOO_LARGE',
            task.name,
            `decoding ran out of memory (limit ${this.options.maxOldSpaceMb} MB)`,
          )
        : new DicomError(
            'WORKER_CRASHED',
            task.name,
            `the decoder process stopped unexpectedly (${signal ?? `exit code ${code}`})`,
          ),
    );
    this.onIdle?.();
  }

  /** Let an idle child not hold the event loop open. */
  idleRef(): void {
    if (this.child && !this.current) this.setRef(this.child, false);
  }

  private setRef(child: ChildProcess, busy: boolean): void {
    // An idle pool must not keep the application alive.
    const channel = child.channel as { ref?: () => void; unref?: () => void } | null | undefined;
    if (busy) {
      child.ref();
      channel?.ref?.();
    } else {
      child.unref();
      channel?.unref?.();
    }
  }

  async close(): Promise<void> {
    const child = this.child;
    this.child = null;
    this.stopClock();
    const task = this.current;
    this.current = null;
    task?.onFailure(new DicomError('WORKER_CRASHED', task.name, 'the decode pool was closed'));
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    this.setRef(child, true); // keep the loop alive until the exit is seen
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  }
}

/**
 * Decodes files in child processes under a time limit (per file, counting the child's working time) and
 * a V8 heap limit. A file that hangs or crashes the decoder costs only its own result: the child is
 * killed, a DicomError (TIMEOUT, TOO_LARGE or WORKER_CRASHED) is returned for that file, and the next
 * file gets a fresh child. Children are reused across files; error messages name the file by its base name.
 */
export class DecodePool {
  private readonly workers: DecodeWorker[];
  private readonly queue: Array<{ task: Task; started: (worker: DecodeWorker) => void }> = [];
  private nextId = 1;
  private closed = false;

  constructor(options: DecodePoolOptions = {}) {
    const resolved = {
      ...options,
      timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      maxOldSpaceMb: options.maxOldSpaceMb ?? DEFAULT_MAX_OLD_SPACE_MB,
    };
    this.workers = Array.from({ length: Math.max(1, options.size ?? 1) }, () => {
      const worker = new DecodeWorker(resolved);
      worker.onIdle = () => this.dispatch();
      return worker;
    });
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      const worker = this.workers.find((w) => !w.busy);
      if (!worker) return;
      const next = this.queue.shift();
      if (!next) return;
      worker.run(next.task);
      next.started(worker);
    }
  }

  private submit(task: Omit<Task, 'id'>): { id: number; worker: Promise<DecodeWorker> } {
    if (this.closed) throw new Error('DecodePool is closed');
    const id = this.nextId++;
    let started!: (worker: DecodeWorker) => void;
    const worker = new Promise<DecodeWorker>((resolve) => (started = resolve));
    this.queue.push({ task: { ...task, id }, started });
    this.dispatch();
    return { id, worker };
  }

  /** Decode the frames `options` select (all by default) and return them together. */
  decodeFile(filePath: string, options: DecodeOptions = {}): Promise<DecodedDicom> {
    const name = path.basename(filePath);
    return new Promise<DecodedDicom>((resolve, reject) => {
      const result: DecodedDicom = {
        file: name,
        info: undefined as unknown as DicomTechnicalInfo,
        frames: [],
      };
      try {
        this.submit({
          filePath,
          name,
          options,
          streaming: false,
          onMessage: (message) => {
            if (message.type === 'info') {
              result.info = message.info;
              if (message.deidentified) result.deidentified = message.deidentified;
            } else if (message.type === 'frame') {
              result.frames.push(message.frame);
            } else if (message.type === 'done') {
              resolve(result);
            } else if (message.type === 'error') {
              reject(new DicomError(message.error.code, message.error.file, message.error.reason));
            }
          },
          onFailure: reject,
        });
      } catch (err) {
        reject(err);
      }
    });
  }

  /** Header only: technical info (and de-identified metadata when `deidKey` is given). */
  readInfo(filePath: string, options: Pick<DecodeOptions, 'deidKey'> = {}): Promise<DecodedDicom> {
    return this.decodeFile(filePath, { ...options, headerOnly: true });
  }

  /**
   * Stream frames one by one: the child decodes frame n+1 only after the consumer took frame n, so long
   * cine loops never pile up in memory. Breaking out of the loop cancels the rest; a stream that is
   * neither consumed to the end nor broken out of (nor `frames.return()`ed) keeps its child busy.
   */
  async stream(filePath: string, options: DecodeOptions = {}): Promise<DecodeStream> {
    const name = path.basename(filePath);
    type Event =
      { kind: 'frame'; frame: DecodedFrame } | { kind: 'done' } | { kind: 'error'; error: DicomError };
    const events: Event[] = [];
    let wake: (() => void) | null = null;
    let header:
      | ((value: {
          info: DicomTechnicalInfo;
          deidentified?: DeidentifiedMetadata;
          frameCount: number;
        }) => void)
      | null = null;
    let headerFailed: ((error: DicomError) => void) | null = null;
    const headerPromise = new Promise<{
      info: DicomTechnicalInfo;
      deidentified?: DeidentifiedMetadata;
      frameCount: number;
    }>((resolve, reject) => {
      header = resolve;
      headerFailed = reject;
    });
    const push = (event: Event): void => {
      if (event.kind === 'error' && headerFailed) {
        headerFailed(event.error);
        headerFailed = null;
        header = null;
      }
      events.push(event);
      wake?.();
      wake = null;
    };
    const { id, worker } = this.submit({
      filePath,
      name,
      options,
      streaming: true,
      onMessage: (message) => {
        if (message.type === 'info') {
          header?.({
            info: message.info,
            deidentified: message.deidentified,
            frameCount: message.frameCount,
          });
          header = null;
          headerFailed = null;
        } else if (message.type === 'frame') push({ kind: 'frame', frame: message.frame });
        else if (message.type === 'done') push({ kind: 'done' });
        else if (message.type === 'error')
          push({
            kind: 'error',
            error: new DicomError(message.error.code, message.error.file, message.error.reason),
          });
      },
      onFailure: (error) => push({ kind: 'error', error }),
    });
    const head = await headerPromise;
    const owner = await worker;
    async function* frames(): AsyncGenerator<DecodedFrame> {
      let finished = false;
      try {
        for (let i = 0; i < head.frameCount; i++) {
          owner.next(id);
          while (events.length === 0) await new Promise<void>((resolve) => (wake = resolve));
          const event = events.shift() as Event;
          if (event.kind === 'error') {
            finished = true;
            throw event.error;
          }
          if (event.kind === 'done') {
            finished = true;
            return;
          }
          yield event.frame;
        }
        finished = true;
      } finally {
        if (!finished) owner.cancel(id);
      }
    }
    return { ...head, frames: frames() };
  }

  /** Convenience: iterate the frames of one file (see stream()). */
  async *frames(filePath: string, options: DecodeOptions = {}): AsyncGenerator<DecodedFrame> {
    const { frames } = await this.stream(filePath, options);
    yield* frames;
  }

  /** Start every child and wait until each has loaded the codecs' JavaScript (optional: calls start them too). */
  async warmUp(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.warmUp()));
    for (const w of this.workers) w.idleRef();
  }

  /** Process ids of the running children (diagnostics and tests). */
  pids(): number[] {
    return this.workers.map((w) => w.pid).filter((pid): pid is number => pid !== undefined);
  }

  /** Stop the child processes; pending and later calls fail. */
  async close(): Promise<void> {
    this.closed = true;
    for (const pending of this.queue.splice(0)) {
      pending.task.onFailure(
        new DicomError('WORKER_CRASHED', pending.task.name, 'the decode pool was closed'),
      );
    }
    await Promise.all(this.workers.map((w) => w.close()));
  }
}

let defaultPool: DecodePool | null = null;

/** Decode one file in the shared default pool (60 s, 2 GB heap). Call closeDefaultDecodePool() at shutdown. */
export function decodeFileBounded(filePath: string, options: DecodeOptions = {}): Promise<DecodedDicom> {
  defaultPool ??= new DecodePool();
  return defaultPool.decodeFile(filePath, options);
}

export async function closeDefaultDecodePool(): Promise<void> {
  const pool = defaultPool;
  defaultPool = null;
  await pool?.close();
}
