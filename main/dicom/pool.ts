import path from 'node:path';
import { DicomError } from './errors';
import type { FromDecodeWorker, ToDecodeWorker } from './pool-protocol';
import {
  decodeWorkerEntry,
  defaultDecodeIsolation,
  startDecoderProcess,
  startDecoderThread,
  type DecodeIsolation,
  type DecoderExit,
  type DecoderTransport,
} from './pool-transport';
import type {
  DecodedDicom,
  DecodedFrame,
  DecodeOptions,
  DecodePoolOptions,
  DeidentifiedMetadata,
  DicomTechnicalInfo,
} from './types';

export { decodeWorkerEntry, defaultDecodeIsolation, type DecodeIsolation } from './pool-transport';

const DEFAULT_TIMEOUT_MS = 60_000;
const DEFAULT_MAX_OLD_SPACE_MB = 2048;

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

type ResolvedPoolOptions = Required<Pick<DecodePoolOptions, 'timeoutMs' | 'maxOldSpaceMb'>> &
  DecodePoolOptions & { isolation: DecodeIsolation };

/** One decoder (child process or worker thread); one file at a time, replaced after a crash or timeout. */
class DecodeWorker {
  private decoder: DecoderTransport | null = null;
  private readonly ready = new WeakSet<DecoderTransport>();
  private readonly readyWaiters = new Map<DecoderTransport, Array<(started: boolean) => void>>();
  private current: Task | null = null;
  private timer: NodeJS.Timeout | null = null;
  private workStartedAt = 0;
  private workSpentMs = 0;
  private timeoutMs: number;

  constructor(private readonly options: ResolvedPoolOptions) {
    this.timeoutMs = options.timeoutMs;
  }

  get busy(): boolean {
    return this.current !== null;
  }

  /** Process id, or thread id in thread mode, of the running decoder. */
  get id(): number | undefined {
    return this.decoder?.id;
  }

  get kind(): DecodeIsolation {
    return this.options.isolation;
  }

  /** Start the decoder now (if not running) and wait until it has loaded the codecs' JavaScript. */
  warmUp(): Promise<void> {
    const decoder = this.decoder ?? this.spawn();
    if (this.ready.has(decoder)) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const waiters = this.readyWaiters.get(decoder) ?? [];
      waiters.push((started) =>
        started ? resolve() : reject(new Error('the decoder exited while starting')),
      );
      this.readyWaiters.set(decoder, waiters);
    });
  }

  private settleReady(decoder: DecoderTransport, started: boolean): void {
    const waiters = this.readyWaiters.get(decoder);
    this.readyWaiters.delete(decoder);
    for (const waiter of waiters ?? []) waiter(started);
  }

  private spawn(): DecoderTransport {
    const entry = this.options.workerEntry ?? decodeWorkerEntry();
    const decoder =
      this.options.isolation === 'thread'
        ? startDecoderThread(entry, this.options.maxOldSpaceMb)
        : startDecoderProcess(entry, this.options.maxOldSpaceMb);
    decoder.onMessage((message) => this.onMessage(decoder, message));
    decoder.onExit((exit) => this.onExit(decoder, exit));
    this.decoder = decoder;
    return decoder;
  }

  run(task: Task): void {
    this.current = task;
    this.workSpentMs = 0;
    const decoder = this.decoder ?? this.spawn();
    decoder.setBusy(true);
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
    if (this.current?.id === id) this.decoder?.send({ type: 'cancel', id });
  }

  private send(message: ToDecodeWorker): void {
    this.startClock();
    this.decoder?.send(message);
  }

  /**
   * The time limit counts only the decoder's working time, not the time a stream's consumer takes.
   * Returns false when the budget is already spent (the decoder has then been stopped).
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

  private onMessage(decoder: DecoderTransport, message: FromDecodeWorker): void {
    if (message.type === 'ready') {
      this.ready.add(decoder);
      this.settleReady(decoder, true);
      return;
    }
    if (decoder !== this.decoder) return;
    const task = this.current;
    if (!task || message.id !== task.id) return;
    this.stopClock();
    if (message.type === 'done' || message.type === 'error') this.finish(decoder);
    else if (!task.streaming && !this.startClock()) return; // the decoder goes straight on with the next frame
    task.onMessage(message);
  }

  private finish(decoder: DecoderTransport): void {
    this.current = null;
    decoder.setBusy(false);
    this.onIdle?.();
  }

  onIdle: (() => void) | null = null;

  private onTimeout(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const task = this.current;
    const decoder = this.decoder;
    if (!task || !decoder) return;
    this.decoder = null;
    void decoder.stop();
    this.settleReady(decoder, false);
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

  private onExit(decoder: DecoderTransport, exit: DecoderExit): void {
    this.settleReady(decoder, false);
    if (decoder !== this.decoder) return;
    this.decoder = null;
    this.stopClock();
    const task = this.current;
    this.current = null;
    if (!task) return;
    const what = decoder.kind === 'thread' ? 'thread' : 'process';
    task.onFailure(
      exit.outOfMemory
        ? new DicomError(
            'TOO_LARGE',
            task.name,
            `decoding ran out of memory (limit ${this.options.maxOldSpaceMb} MB)`,
          )
        : new DicomError(
            'WORKER_CRASHED',
            task.name,
            `the decoder ${what} stopped unexpectedly (${exit.detail})`,
          ),
    );
    this.onIdle?.();
  }

  /** Let an idle decoder not hold the event loop open. */
  idleRef(): void {
    if (this.decoder && !this.current) this.decoder.setBusy(false);
  }

  async close(): Promise<void> {
    const decoder = this.decoder;
    this.decoder = null;
    this.stopClock();
    const task = this.current;
    this.current = null;
    task?.onFailure(new DicomError('WORKER_CRASHED', task.name, 'the decode pool was closed'));
    if (!decoder) return;
    this.settleReady(decoder, false);
    await decoder.stop();
  }
}

/**
 * Decodes files in child processes (worker threads inside Electron, see `isolation`) under a time limit
 * (per file, counting the decoder's working time) and a V8 heap limit. A file that hangs or crashes the
 * decoder costs only its own result: the decoder is killed, a DicomError (TIMEOUT, TOO_LARGE or
 * WORKER_CRASHED) is returned for that file, and the next file gets a fresh one. Decoders are reused
 * across files; error messages name the file by its base name.
 */
export class DecodePool {
  private readonly workers: DecodeWorker[];
  private readonly queue: Array<{ task: Task; started: (worker: DecodeWorker) => void }> = [];
  private nextId = 1;
  private closed = false;
  /** Child processes or worker threads (see DecodePoolOptions.isolation). */
  readonly isolation: DecodeIsolation;

  constructor(options: DecodePoolOptions = {}) {
    const resolved: ResolvedPoolOptions = {
      ...options,
      timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      maxOldSpaceMb: options.maxOldSpaceMb ?? DEFAULT_MAX_OLD_SPACE_MB,
      isolation: options.isolation ?? defaultDecodeIsolation(),
    };
    this.isolation = resolved.isolation;
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

  /** Ids of the running decoders: process ids, or thread ids in thread mode (diagnostics and tests). */
  workerIds(): number[] {
    return this.workers.map((w) => w.id).filter((id): id is number => id !== undefined);
  }

  /** Process ids of the running child processes (none in thread mode). */
  pids(): number[] {
    return this.isolation === 'process' ? this.workerIds() : [];
  }

  /** Stop the decoders; pending and later calls fail. */
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
