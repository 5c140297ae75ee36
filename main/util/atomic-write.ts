import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';

export interface AtomicWriteOptions {
  /** Flush the file before the rename: `full` (fsync, the default), `data` (fdatasync) or `none`. */
  sync?: 'full' | 'data' | 'none';
  /** fsync the folder after the rename (default true); false when the caller batches that (pixel cache). */
  syncDirectory?: boolean;
}

/**
 * Write a file so that readers see either the old or the new content, never a torn one:
 * temporary file in the same folder, fsync, rename over the target, fsync the folder.
 */
export function writeFileAtomic(target: string, data: string | Uint8Array | readonly Uint8Array[], options: AtomicWriteOptions = {}): void {
  const sync = options.sync ?? 'full';
  const dir = path.dirname(target);
  fs.mkdirSync(dir, { recursive: true });
  const tmp = path.join(dir, `.${path.basename(target)}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`);
  const fd = fs.openSync(tmp, 'w');
  try {
    const chunks = typeof data === 'string' ? [Buffer.from(data)] : data instanceof Uint8Array ? [data] : data;
    for (const chunk of chunks) {
      let off = 0;
      while (off < chunk.byteLength) off += fs.writeSync(fd, chunk, off, chunk.byteLength - off);
    }
    if (sync === 'full') fs.fsyncSync(fd);
    else if (sync === 'data') fs.fdatasyncSync(fd);
  } catch (err) {
    fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw err;
  }
  fs.closeSync(fd);
  fs.renameSync(tmp, target);
  if (options.syncDirectory ?? true) fsyncDir(dir);
}

/** fsync a folder so that a rename into it survives a power cut (a no-op on Windows). */
export function fsyncDir(dir: string): void {
  if (process.platform === 'win32') return; // directories cannot be opened for fsync on Windows
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}
