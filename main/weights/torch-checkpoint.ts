/**
 * PyTorch checkpoints written by `torch.save` (zip format, PyTorch >= 1.6): a zip archive holding
 * `<name>/data.pkl` (the pickled object graph, read with the restricted reader in ./pickle) and one entry
 * `<name>/data/<key>` of raw little-endian bytes per storage. Storage bytes are read straight from the
 * file into the tensor's buffer (PyTorch stores them uncompressed), one tensor at a time.
 */
import fs from 'node:fs';
import yauzl from 'yauzl';
import { PickleFormatError, STORAGE_DTYPES, StorageType, TensorRef, unpickle, type StorageRef, type TorchDtype } from './pickle';
import { numel } from './state-dict';

export class TorchCheckpointError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TorchCheckpointError';
  }
}

export const DTYPE_BYTES: Readonly<Record<TorchDtype, number>> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };

export interface TorchCheckpoint {
  /** The unpickled object: Maps for dicts, arrays for lists/tuples, TensorRef for tensors. */
  root: unknown;
  /** Raw little-endian bytes of one tensor (contiguous, row-major), whatever its strides in the storage. */
  readTensorBytes(tensor: TensorRef): Promise<Uint8Array>;
  /** The tensor's values converted to float32 (exact for F32, F16, BF16 and integers below 2^24). */
  readTensor(tensor: TensorRef): Promise<Float32Array>;
  close(): void;
}

const ZIP_MAGIC = [0x50, 0x4b, 0x03, 0x04];

function startsWith(buf: Uint8Array, magic: number[]): boolean {
  return magic.every((b, i) => buf[i] === b);
}

function sniff(file: string): Uint8Array {
  const fd = fs.openSync(file, 'r');
  try {
    const head = new Uint8Array(16);
    fs.readSync(fd, head, 0, 16, 0);
    return head;
  } finally {
    fs.closeSync(fd);
  }
}

async function readEntry(zip: yauzl.ZipFile, entry: yauzl.Entry, into?: Uint8Array): Promise<Uint8Array> {
  const size = entry.uncompressedSize;
  const out = into ?? new Uint8Array(size);
  if (out.byteLength !== size) throw new TorchCheckpointError(`archive entry ${entry.fileName} has ${size} bytes, expected ${out.byteLength}`);
  const stream = await zip.openReadStreamPromise(entry);
  let offset = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    if (offset + chunk.byteLength > size) throw new TorchCheckpointError(`archive entry ${entry.fileName} is longer than declared`);
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  if (offset !== size) throw new TorchCheckpointError(`archive entry ${entry.fileName} is truncated`);
  return out;
}

/** Open a torch.save zip archive, read its pickle with the restricted reader, and give lazy tensor access. */
export async function openTorchCheckpoint(file: string): Promise<TorchCheckpoint> {
  const head = sniff(file);
  if (!startsWith(head, ZIP_MAGIC)) {
    if (head[0] === 0x80 && head[1]! <= 5) {
      throw new TorchCheckpointError(
        'this file uses the legacy (pre-1.6) torch.save format, which is not supported; in Python re-save it with a current PyTorch ' +
          '(torch.save(torch.load(f, weights_only=True), "new.pth")) or convert it to .safetensors',
      );
    }
    throw new TorchCheckpointError('not a PyTorch checkpoint (.pth/.pt/.ckpt written by torch.save) nor a zip archive');
  }
  let zip: yauzl.ZipFile;
  try {
    zip = await yauzl.openPromise(file, { lazyEntries: true, autoClose: false, strictFileNames: false });
  } catch (err) {
    throw new TorchCheckpointError(`the zip container is damaged: ${(err as Error).message}`);
  }
  try {
    const entries = new Map<string, yauzl.Entry>();
    for await (const entry of zip.eachEntry()) entries.set(entry.fileName, entry);
    const pklName = [...entries.keys()].find((n) => /^[^/]+\/data\.pkl$/.test(n)) ?? [...entries.keys()].find((n) => n.endsWith('/data.pkl'));
    if (!pklName) {
      if ([...entries.keys()].some((n) => n.endsWith('constants.pkl') || /\/code\//.test(n))) {
        throw new TorchCheckpointError('this is a TorchScript archive (torch.jit.save), not a state dict; save weights with torch.save(model.state_dict(), f)');
      }
      throw new TorchCheckpointError('zip archive without data.pkl: not written by torch.save');
    }
    const prefix = pklName.slice(0, -'data.pkl'.length);
    const byteorderEntry = entries.get(`${prefix}byteorder`);
    const bigEndian = byteorderEntry ? new TextDecoder().decode(await readEntry(zip, byteorderEntry)).trim() === 'big' : false;

    const storages = new Map<string, StorageRef>();
    const persistentLoad = (pid: unknown): StorageRef => {
      if (!Array.isArray(pid) || pid[0] !== 'storage' || pid.length < 5) throw new PickleFormatError('unexpected persistent id');
      const [, type, key, location, size] = pid as [string, unknown, unknown, unknown, unknown];
      if (!(type instanceof StorageType)) throw new PickleFormatError('persistent id without a storage type');
      if (typeof key !== 'string' || !/^[\w.-]+$/.test(key)) throw new PickleFormatError('bad storage key');
      const known = storages.get(key);
      if (known) return known;
      const ref: StorageRef = { key, dtype: type.dtype, location: String(location), numel: typeof size === 'number' ? size : Number(size) };
      storages.set(key, ref);
      return ref;
    };
    const root = unpickle(await readEntry(zip, entries.get(pklName)!), { persistentLoad });

    const storageEntry = (ref: StorageRef): yauzl.Entry => {
      const entry = entries.get(`${prefix}data/${ref.key}`);
      if (!entry) throw new TorchCheckpointError(`storage ${ref.key} is missing from the archive`);
      const expected = ref.numel * DTYPE_BYTES[ref.dtype];
      if (entry.uncompressedSize < expected) throw new TorchCheckpointError(`storage ${ref.key} holds fewer bytes than its tensors need`);
      return entry;
    };

    const fd = fs.openSync(file, 'r');
    const readStorageRange = async (ref: StorageRef, byteStart: number, byteLength: number): Promise<Uint8Array> => {
      const entry = storageEntry(ref);
      if (byteStart + byteLength > entry.uncompressedSize) throw new TorchCheckpointError(`a tensor reaches past the end of storage ${ref.key}`);
      const out = new Uint8Array(byteLength);
      if (entry.compressionMethod === 0) {
        // Stored (PyTorch's default): read the bytes in place, no intermediate copies.
        const { fileDataStart } = await zip.readLocalFileHeaderPromise(entry, { minimal: true });
        let done = 0;
        while (done < byteLength) {
          const n = fs.readSync(fd, out, done, byteLength - done, fileDataStart + byteStart + done);
          if (n === 0) throw new TorchCheckpointError(`storage ${ref.key} is truncated`);
          done += n;
        }
        return out;
      }
      const whole = await readEntry(zip, entry);
      out.set(whole.subarray(byteStart, byteStart + byteLength));
      return out;
    };

    const readTensorBytes = async (tensor: TensorRef): Promise<Uint8Array> => {
      const { storage, offset, shape, stride } = tensor;
      const itemBytes = DTYPE_BYTES[storage.dtype];
      const count = numel(shape);
      if (count === 0) return new Uint8Array(0);
      // Span of storage elements the tensor touches.
      let last = offset;
      for (let d = 0; d < shape.length; d++) {
        if (stride[d]! < 0) throw new TorchCheckpointError('negative strides are not supported');
        last += (shape[d]! - 1) * stride[d]!;
      }
      if (last >= storage.numel) throw new TorchCheckpointError(`a tensor reaches past the end of storage ${storage.key}`);
      const span = await readStorageRange(storage, offset * itemBytes, (last - offset + 1) * itemBytes);
      let out: Uint8Array;
      if (isContiguous(shape, stride) && span.byteLength === count * itemBytes) {
        out = span;
      } else {
        out = new Uint8Array(count * itemBytes);
        gatherStrided(span, out, shape, stride, itemBytes);
      }
      if (bigEndian && itemBytes > 1) swapBytes(out, itemBytes);
      return out;
    };

    return {
      root,
      readTensorBytes,
      async readTensor(tensor) {
        return bytesToFloat32(await readTensorBytes(tensor), tensor.storage.dtype);
      },
      close() {
        fs.closeSync(fd);
        zip.close();
      },
    };
  } catch (err) {
    zip.close();
    throw err;
  }
}

export function isContiguous(shape: readonly number[], stride: readonly number[]): boolean {
  let expected = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    if (shape[d] !== 1 && stride[d] !== expected) return false;
    expected *= shape[d]!;
  }
  return true;
}

function gatherStrided(src: Uint8Array, dst: Uint8Array, shape: readonly number[], stride: readonly number[], itemBytes: number): void {
  const rank = shape.length;
  const index = new Array<number>(rank).fill(0);
  const count = numel(shape);
  for (let i = 0; i < count; i++) {
    let at = 0;
    for (let d = 0; d < rank; d++) at += index[d]! * stride[d]!;
    dst.set(src.subarray(at * itemBytes, (at + 1) * itemBytes), i * itemBytes);
    for (let d = rank - 1; d >= 0; d--) {
      if (++index[d]! < shape[d]!) break;
      index[d] = 0;
    }
  }
}

function swapBytes(buf: Uint8Array, itemBytes: number): void {
  for (let i = 0; i < buf.byteLength; i += itemBytes) buf.subarray(i, i + itemBytes).reverse();
}

/** Convert little-endian bytes of `dtype` to float32 (the buffer is reused when already F32 and aligned). */
export function bytesToFloat32(bytes: Uint8Array, dtype: TorchDtype): Float32Array {
  const count = bytes.byteLength / DTYPE_BYTES[dtype];
  if (dtype === 'F32') {
    return bytes.byteOffset % 4 === 0 ? new Float32Array(bytes.buffer, bytes.byteOffset, count) : new Float32Array(bytes.slice().buffer);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(count);
  const f32 = new Float32Array(1);
  const u32 = new Uint32Array(f32.buffer);
  for (let i = 0; i < count; i++) {
    switch (dtype) {
      case 'F64':
        out[i] = view.getFloat64(i * 8, true);
        break;
      case 'F16':
        out[i] = halfToFloat(view.getUint16(i * 2, true));
        break;
      case 'BF16':
        u32[0] = view.getUint16(i * 2, true) << 16;
        out[i] = f32[0]!;
        break;
      case 'I64':
        out[i] = Number(view.getBigInt64(i * 8, true));
        break;
      case 'I32':
        out[i] = view.getInt32(i * 4, true);
        break;
      case 'I16':
        out[i] = view.getInt16(i * 2, true);
        break;
      case 'I8':
        out[i] = view.getInt8(i);
        break;
      default:
        out[i] = view.getUint8(i);
    }
  }
  return out;
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

export { TensorRef, STORAGE_DTYPES };
