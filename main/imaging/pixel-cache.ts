/**
 * Content-addressed store of decoded pixels under `<dataDir>/cache/`: every item's frame is decoded once
 * at import and read back by training, viewers and exports without touching DICOM again.
 *
 * File format (`.uspx`): 16-byte header, then the samples, little-endian, each row delta-coded against the
 * sample to its left (same channel, modulo 2^bits) and deflated (zlib raw): lossless, small, and fast to
 * read back with Node's native zlib.
 *   0 'USPX'  4 version(1)  5 channels  6 bitDepth  7 flags(bit0 signed)  8 width u32  12 height u32
 * The key is the SHA-256 of the decoded content (shape + samples), so identical frames share one file.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fsyncDir, writeFileAtomic } from '../util/atomic-write';
import { allocData, assertValidRaster, rasterBytes, type Raster } from './raster';

const MAGIC = 0x58505355; // 'USPX' little-endian
const VERSION = 1;
const HEADER_BYTES = 16;
export const CACHE_DIR = 'cache';
const KEY_RE = /^[0-9a-f]{64}$/;

export function isCacheKey(key: string): boolean {
  return KEY_RE.test(key);
}

/** SHA-256 over the raster's shape and samples: equal keys mean equal decoded pixels. */
export function rasterKey(r: Raster): string {
  const shape = Buffer.alloc(12);
  shape.writeUInt32LE(r.width, 0);
  shape.writeUInt32LE(r.height, 4);
  shape[8] = r.channels;
  shape[9] = r.bitDepth;
  shape[10] = r.signed ? 1 : 0;
  return crypto.createHash('sha256').update(shape).update(rasterBytes(r)).digest('hex');
}

export function cachePath(dataDir: string, key: string, kind: 'pixels' | 'thumbs' = 'pixels'): string {
  if (!isCacheKey(key)) throw new Error(`not a cache key: ${key.slice(0, 80)}`);
  return path.join(dataDir, CACHE_DIR, kind, key.slice(0, 2), `${key}.${kind === 'pixels' ? 'uspx' : 'png'}`);
}

export function encodeCachedRaster(r: Raster, level = 3): Buffer {
  assertValidRaster(r);
  const header = Buffer.alloc(HEADER_BYTES);
  header.writeUInt32LE(MAGIC, 0);
  header[4] = VERSION;
  header[5] = r.channels;
  header[6] = r.bitDepth;
  header[7] = r.signed ? 1 : 0;
  header.writeUInt32LE(r.width, 8);
  header.writeUInt32LE(r.height, 12);
  const filtered = deltaRows(r);
  return Buffer.concat([header, zlib.deflateRawSync(filtered, { level })]);
}

export function decodeCachedRaster(bytes: Uint8Array, what = 'cached raster'): Raster {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < HEADER_BYTES || buf.readUInt32LE(0) !== MAGIC) throw new Error(`${what}: not a pixel cache file`);
  if (buf[4] !== VERSION) throw new Error(`${what}: unsupported pixel cache version ${buf[4]}`);
  const channels = buf[5] as 1 | 3;
  const bitDepth = buf[6] as 8 | 16;
  const signed = (buf[7]! & 1) === 1;
  const width = buf.readUInt32LE(8);
  const height = buf.readUInt32LE(12);
  const samples = width * height * channels;
  const raw = zlib.inflateRawSync(buf.subarray(HEADER_BYTES), { maxOutputLength: samples * (bitDepth / 8) });
  if (raw.length !== samples * (bitDepth / 8)) throw new Error(`${what}: pixel data is truncated`);
  const data = allocData(bitDepth, signed, samples);
  const view = new Uint8Array(data.buffer);
  view.set(raw);
  undeltaRows(data, width, height, channels, bitDepth);
  const r: Raster = { width, height, channels, bitDepth, signed, data };
  assertValidRaster(r);
  return r;
}

/**
 * Directories whose new entries still need an fsync. An import writes thousands of cache files between
 * two catalog commits: it fsyncs each file as it writes it but each shard directory once per commit
 * (syncDirectories), instead of once per file as writeFileAtomic does.
 */
export type PendingDirectories = Set<string>;

/** tmp file, write, fdatasync, rename: readers see the whole file or none. */
function writeCacheFile(target: string, data: Uint8Array, options: { sync: boolean; pendingDirs?: PendingDirectories }): void {
  if (!options.sync) return writeFileAtomic(target, data, { sync: 'none', syncDirectory: false });
  if (!options.pendingDirs) return writeFileAtomic(target, data);
  writeFileAtomic(target, data, { sync: 'data', syncDirectory: false });
  options.pendingDirs.add(path.dirname(target));
}

/** fsync the directories collected while writing (call before committing what references the files). */
export function syncDirectories(dirs: PendingDirectories): void {
  for (const dir of dirs) fsyncDir(dir);
  dirs.clear();
}

/** Store a raster; returns its key. Existing files are kept (same key = same content). */
export function writeCachedRaster(dataDir: string, r: Raster, key = rasterKey(r), pendingDirs?: PendingDirectories): { key: string; written: boolean; bytes: number } {
  const file = cachePath(dataDir, key);
  if (fs.existsSync(file)) return { key, written: false, bytes: 0 };
  const encoded = encodeCachedRaster(r);
  writeCacheFile(file, encoded, { sync: true, pendingDirs });
  return { key, written: true, bytes: encoded.length };
}

export function readCachedRaster(dataDir: string, key: string): Raster {
  const file = cachePath(dataDir, key);
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(`pixel cache entry ${key.slice(0, 12)} is missing`);
    throw err;
  }
  return decodeCachedRaster(bytes, `pixel cache entry ${key.slice(0, 12)}`);
}

export function hasCachedRaster(dataDir: string, key: string): boolean {
  return fs.existsSync(cachePath(dataDir, key));
}

/** Thumbnails are not synced: one lost in a power cut is made again from the pixels when asked for. */
export function writeThumbnail(dataDir: string, key: string, png: Uint8Array): void {
  const file = cachePath(dataDir, key, 'thumbs');
  if (!fs.existsSync(file)) writeCacheFile(file, png, { sync: false, pendingDirs: new Set() });
}

export function readThumbnail(dataDir: string, key: string): Buffer | null {
  try {
    return fs.readFileSync(cachePath(dataDir, key, 'thumbs'));
  } catch {
    return null;
  }
}

/** Little-endian bytes of the rows, each sample replaced by its difference to the left neighbour. */
function deltaRows(r: Raster): Uint8Array {
  const { width, height, channels } = r;
  const rowLen = width * channels;
  if (r.bitDepth === 8) {
    const src = r.data as Uint8Array;
    const out = new Uint8Array(src.length);
    for (let y = 0; y < height; y++) {
      const o = y * rowLen;
      for (let i = 0; i < channels && i < rowLen; i++) out[o + i] = src[o + i]!;
      for (let i = channels; i < rowLen; i++) out[o + i] = (src[o + i]! - src[o + i - channels]!) & 0xff;
    }
    return out;
  }
  const src = new Uint16Array(r.data.buffer, r.data.byteOffset, r.data.length);
  const out = new Uint16Array(src.length);
  for (let y = 0; y < height; y++) {
    const o = y * rowLen;
    for (let i = 0; i < channels && i < rowLen; i++) out[o + i] = src[o + i]!;
    for (let i = channels; i < rowLen; i++) out[o + i] = (src[o + i]! - src[o + i - channels]!) & 0xffff;
  }
  return littleEndianBytes(out);
}

function undeltaRows(data: Raster['data'], width: number, height: number, channels: number, bitDepth: 8 | 16): void {
  const rowLen = width * channels;
  if (bitDepth === 8) {
    const d = data as Uint8Array;
    for (let y = 0; y < height; y++) {
      const o = y * rowLen;
      for (let i = channels; i < rowLen; i++) d[o + i] = (d[o + i]! + d[o + i - channels]!) & 0xff;
    }
    return;
  }
  const d = new Uint16Array(data.buffer, data.byteOffset, data.length);
  if (IS_BIG_ENDIAN) for (let i = 0; i < d.length; i++) d[i] = ((d[i]! & 0xff) << 8) | (d[i]! >> 8);
  for (let y = 0; y < height; y++) {
    const o = y * rowLen;
    for (let i = channels; i < rowLen; i++) d[o + i] = (d[o + i]! + d[o + i - channels]!) & 0xffff;
  }
}

const IS_BIG_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 0;

function littleEndianBytes(a: Uint16Array): Uint8Array {
  if (IS_BIG_ENDIAN) for (let i = 0; i < a.length; i++) a[i] = ((a[i]! & 0xff) << 8) | (a[i]! >> 8);
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}
