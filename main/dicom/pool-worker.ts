/**
 * Entry of DecodePool's decoders, as a child process (IPC) or a worker thread (parentPort): reads a file,
 * decodes it and sends the result back. Everything that can go wrong comes back as an 'error' message;
 * a hang or an out-of-memory crash is handled by the parent, which kills and restarts this decoder.
 */
import fs from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { checkDecodedSize, openDicom } from './decode';
import { DicomError, asDicomError } from './errors';
import type { FromDecodeWorker, ToDecodeWorker } from './pool-protocol';

function send(message: FromDecodeWorker): void {
  if (parentPort) parentPort.postMessage(message);
  else process.send?.(message);
}

let pendingNext: (() => void) | null = null;
let cancelled = new Set<number>();

function waitForNext(): Promise<void> {
  return new Promise((resolve) => {
    pendingNext = resolve;
  });
}

async function handle(request: Extract<ToDecodeWorker, { type: 'decode' }>): Promise<void> {
  const { id, path: filePath, name, options } = request;
  try {
    let bytes: Buffer;
    try {
      bytes = fs.readFileSync(filePath);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'unknown';
      throw new DicomError('IO', name, `cannot read the file (${code})`);
    }
    const image = openDicom(bytes, name);
    const deidentified = options.deidKey ? image.deidentify(options.deidKey) : undefined;
    const indices = options.headerOnly ? [] : image.selectFrames(options);
    // A stream holds one frame at a time; a whole-file decode holds them all.
    checkDecodedSize(image, request.streaming ? Math.min(1, indices.length) : indices.length, options);
    send({ type: 'info', id, info: image.info, deidentified, frameCount: indices.length });
    for (const index of indices) {
      if (request.streaming) {
        await waitForNext();
        if (cancelled.has(id)) break;
      }
      const raster = await image.decodeFrame(index);
      send({ type: 'frame', id, frame: { index, raster } });
    }
    send({ type: 'done', id });
  } catch (err) {
    const error = asDicomError(err, name, 'MALFORMED', 'decode');
    send({ type: 'error', id, error: error.toJSON() });
  } finally {
    cancelled = new Set();
  }
}

let queue = Promise.resolve();
function onRequest(message: ToDecodeWorker): void {
  if (message.type === 'decode') {
    queue = queue.then(() => handle(message));
  } else if (message.type === 'next' || message.type === 'cancel') {
    if (message.type === 'cancel') cancelled.add(message.id);
    const resume = pendingNext;
    pendingNext = null;
    resume?.();
  }
}
if (parentPort) {
  parentPort.on('message', onRequest);
} else {
  process.on('message', onRequest);
  process.on('disconnect', () => process.exit(0));
}
send({ type: 'ready' });
