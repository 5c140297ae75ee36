/**
 * safetensors (https://github.com/huggingface/safetensors): u64 little-endian header length, a JSON header
 * `{name: {dtype, shape, data_offsets}, __metadata__?: {string: string}}`, then raw little-endian data.
 * The format PyTorch's `safetensors.torch.load_file` and timm read directly.
 */
import fs from 'node:fs';
import { writeFileAtomic } from '../util/atomic-write';

export type SafetensorsDtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

export interface NamedTensor {
  dtype: SafetensorsDtype;
  shape: number[];
  /** Raw little-endian bytes exactly as stored. */
  bytes: Uint8Array;
}

export interface SafetensorsFile {
  tensors: Map<string, NamedTensor>;
  metadata: Record<string, string>;
}

const DTYPE_BYTES: Record<SafetensorsDtype, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };
const MAX_HEADER_BYTES = 100 * 1024 * 1024;

export class SafetensorsError extends Error {
  constructor(source: string, problem: string) {
    super(`${source}: not a valid safetensors file: ${problem}`);
    this.name = 'SafetensorsError';
  }
}

export function parseSafetensors(buffer: Uint8Array, source = 'safetensors'): SafetensorsFile {
  if (buffer.byteLength < 8) throw new SafetensorsError(source, 'shorter than its 8-byte header length');
  const view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  if (headerLength > MAX_HEADER_BYTES || 8 + headerLength > buffer.byteLength) {
    throw new SafetensorsError(source, `header length ${headerLength} exceeds the file`);
  }
  const dataStart = 8 + headerLength;
  const { entries, metadata } = parseHeader(new TextDecoder().decode(buffer.subarray(8, dataStart)), source, dataStart, buffer.byteLength);
  const tensors = new Map<string, NamedTensor>();
  for (const [name, e] of entries) tensors.set(name, { dtype: e.dtype, shape: e.shape, bytes: buffer.subarray(e.begin, e.end) });
  return { tensors, metadata };
}

export function readSafetensors(file: string): SafetensorsFile {
  const buffer = fs.readFileSync(file);
  // A view, not `new Uint8Array(buffer)`, which would copy the whole file.
  return parseSafetensors(new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength), file);
}

export interface SafetensorsEntry {
  dtype: SafetensorsDtype;
  shape: number[];
  /** Byte range in the file (absolute offsets). */
  begin: number;
  end: number;
}

/** A safetensors file opened for reading tensor by tensor (large checkpoints never sit in memory twice). */
export interface SafetensorsReader {
  entries: Map<string, SafetensorsEntry>;
  metadata: Record<string, string>;
  /** Total file size in bytes. */
  size: number;
  readBytes(name: string): Uint8Array;
  read(name: string): NamedTensor;
  close(): void;
}

function parseHeader(json: string, source: string, dataStart: number, fileSize: number): { entries: Map<string, SafetensorsEntry>; metadata: Record<string, string> } {
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(json) as Record<string, unknown>;
  } catch {
    throw new SafetensorsError(source, 'header is not JSON');
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw new SafetensorsError(source, 'header is not a JSON object');
  const entries = new Map<string, SafetensorsEntry>();
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = Object.fromEntries(Object.entries((entry ?? {}) as Record<string, unknown>).map(([k, v]) => [k, String(v)]));
      continue;
    }
    const { dtype, shape, data_offsets: offsets } = (entry ?? {}) as { dtype?: SafetensorsDtype; shape?: number[]; data_offsets?: [number, number] };
    if (!dtype || !(dtype in DTYPE_BYTES) || !Array.isArray(shape) || !Array.isArray(offsets) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
      throw new SafetensorsError(source, `tensor "${name}" has a malformed entry`);
    }
    const [begin, end] = offsets;
    const expected = shape.reduce((a, b) => a * b, 1) * DTYPE_BYTES[dtype];
    if (!Number.isInteger(begin) || !Number.isInteger(end) || begin < 0 || end - begin !== expected || dataStart + end > fileSize) {
      throw new SafetensorsError(source, `tensor "${name}" data range does not match its shape`);
    }
    entries.set(name, { dtype, shape, begin: dataStart + begin, end: dataStart + end });
  }
  return { entries, metadata };
}

/** Read the header only (names, dtypes, shapes, metadata): cheap even for multi-gigabyte files. */
export function openSafetensors(file: string): SafetensorsReader {
  const fd = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    const readAt = (length: number, position: number): Uint8Array => {
      const out = new Uint8Array(length);
      let done = 0;
      while (done < length) {
        const n = fs.readSync(fd, out, done, length - done, position + done);
        if (n === 0) throw new SafetensorsError(file, 'truncated');
        done += n;
      }
      return out;
    };
    if (size < 8) throw new SafetensorsError(file, 'shorter than its 8-byte header length');
    const headerLength = Number(new DataView(readAt(8, 0).buffer).getBigUint64(0, true));
    if (headerLength > MAX_HEADER_BYTES || 8 + headerLength > size) throw new SafetensorsError(file, `header length ${headerLength} exceeds the file`);
    const { entries, metadata } = parseHeader(new TextDecoder().decode(readAt(headerLength, 8)), file, 8 + headerLength, size);
    const readBytes = (name: string): Uint8Array => {
      const e = entries.get(name);
      if (!e) throw new Error(`no tensor "${name}"`);
      return readAt(e.end - e.begin, e.begin);
    };
    return {
      entries,
      metadata,
      size,
      readBytes,
      read: (name) => ({ dtype: entries.get(name)!.dtype, shape: entries.get(name)!.shape, bytes: readBytes(name) }),
      close: () => fs.closeSync(fd),
    };
  } catch (err) {
    fs.closeSync(fd);
    throw err;
  }
}

function bf16ToF32(bits: number): number {
  const u = new Uint32Array([bits << 16]);
  return new Float32Array(u.buffer)[0]!;
}

function f16ToF32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

/** The tensor's values as float32, whatever its stored dtype. */
export function toFloat32(tensor: NamedTensor): Float32Array {
  const { bytes, dtype } = tensor;
  const count = bytes.byteLength / DTYPE_BYTES[dtype];
  // Copy so the result is aligned and independent of the file buffer.
  const copy = bytes.slice();
  const view = new DataView(copy.buffer);
  const out = new Float32Array(count);
  switch (dtype) {
    case 'F32':
      return new Float32Array(copy.buffer, 0, count);
    case 'F64':
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(i * 8, true);
      return out;
    case 'F16':
      for (let i = 0; i < count; i++) out[i] = f16ToF32(view.getUint16(i * 2, true));
      return out;
    case 'BF16':
      for (let i = 0; i < count; i++) out[i] = bf16ToF32(view.getUint16(i * 2, true));
      return out;
    case 'I64':
      for (let i = 0; i < count; i++) out[i] = Number(view.getBigInt64(i * 8, true));
      return out;
    case 'I32':
      for (let i = 0; i < count; i++) out[i] = view.getInt32(i * 4, true);
      return out;
    case 'I16':
      for (let i = 0; i < count; i++) out[i] = view.getInt16(i * 2, true);
      return out;
    case 'I8':
      for (let i = 0; i < count; i++) out[i] = view.getInt8(i);
      return out;
    case 'U8':
    case 'BOOL':
      for (let i = 0; i < count; i++) out[i] = view.getUint8(i);
      return out;
  }
}

export function float32Tensor(shape: number[], values: Float32Array): NamedTensor {
  return { dtype: 'F32', shape, bytes: new Uint8Array(values.buffer, values.byteOffset, values.byteLength) };
}

/** Serialise tensors (sorted by name, as the reference implementation does) with string metadata. */
export function encodeSafetensors(tensors: Map<string, NamedTensor> | Record<string, NamedTensor>, metadata: Record<string, string> = {}): Uint8Array[] {
  const entries = (tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  let offset = 0;
  for (const [name, t] of entries) {
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + t.bytes.byteLength] };
    offset += t.bytes.byteLength;
  }
  let json = JSON.stringify(header);
  // Pad the header with spaces so the data starts 8-byte aligned.
  json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8);
  const headerBytes = new TextEncoder().encode(json);
  const prefix = new Uint8Array(8);
  new DataView(prefix.buffer).setBigUint64(0, BigInt(headerBytes.byteLength), true);
  return [prefix, headerBytes, ...entries.map(([, t]) => t.bytes)];
}

export function writeSafetensors(file: string, tensors: Map<string, NamedTensor> | Record<string, NamedTensor>, metadata: Record<string, string> = {}): void {
  writeFileAtomic(file, encodeSafetensors(tensors, metadata));
}
