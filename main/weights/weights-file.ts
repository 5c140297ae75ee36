/**
 * Opens any supported weights file as a lazy state dict (names and shapes first, values on demand):
 * `.safetensors`, or a `torch.save` zip archive (`.pth` / `.pt` / `.ckpt` / `.bin`) whose state dict may be
 * wrapped (`{'model': ...}` as MAE / BEiT save it, `{'state_dict': ...}` as Lightning does).
 */
import fs from 'node:fs';
import { openSafetensors, toFloat32 } from './safetensors';
import { openTorchCheckpoint, TorchCheckpointError } from './torch-checkpoint';
import { TensorRef } from './pickle';

export interface LazyTensor {
  shape: number[];
  dtype: string;
  read(): Promise<Float32Array>;
}

export interface WeightsFile {
  format: 'safetensors' | 'torch-zip';
  /** Tensors of the state dict, in file order. */
  tensors: Map<string, LazyTensor>;
  /** safetensors `__metadata__` (empty for PyTorch pickles). */
  metadata: Record<string, string>;
  /** The key the state dict was found under (`model`, `state_dict`, ...), null when the file is the state dict. */
  wrapperKey: string | null;
  /** Other top-level entries of a wrapped checkpoint (epoch, optimizer, args...), by name only. */
  otherKeys: string[];
  /** Entries of the state dict that are not tensors (skipped). */
  nonTensorKeys: string[];
  close(): void;
}

export class WeightsFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WeightsFileError';
  }
}

export const WEIGHTS_EXTENSIONS = ['.safetensors', '.pth', '.pt', '.ckpt', '.bin'] as const;

/** Where training scripts put the state dict, most specific first. */
const WRAPPER_KEYS = ['model', 'state_dict', 'model_state_dict', 'model_state', 'module', 'net', 'network', 'model_ema', 'teacher', 'student'];

function hasTensors(value: unknown): value is Map<unknown, unknown> {
  if (!(value instanceof Map)) return false;
  for (const v of value.values()) if (v instanceof TensorRef) return true;
  return false;
}

function sniffKind(file: string): 'zip' | 'safetensors' | 'unknown' {
  const fd = fs.openSync(file, 'r');
  try {
    const head = new Uint8Array(9);
    const n = fs.readSync(fd, head, 0, 9, 0);
    if (n >= 4 && head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04) return 'zip';
    if (n === 9 && head[8] === 0x7b /* '{' */) return 'safetensors';
    return 'unknown';
  } finally {
    fs.closeSync(fd);
  }
}

export async function openWeightsFile(file: string): Promise<WeightsFile> {
  if (!fs.existsSync(file)) throw new WeightsFileError('the weights file does not exist');
  const kind = sniffKind(file);
  if (kind === 'safetensors') {
    const reader = openSafetensors(file);
    const tensors = new Map<string, LazyTensor>();
    for (const [name, e] of reader.entries) {
      tensors.set(name, { shape: e.shape, dtype: e.dtype, read: async () => toFloat32(reader.read(name)) });
    }
    return { format: 'safetensors', tensors, metadata: reader.metadata, wrapperKey: null, otherKeys: [], nonTensorKeys: [], close: reader.close };
  }
  if (kind === 'unknown' && file.toLowerCase().endsWith('.safetensors')) throw new WeightsFileError('not a valid safetensors file');
  let checkpoint;
  try {
    checkpoint = await openTorchCheckpoint(file);
  } catch (err) {
    if (err instanceof TorchCheckpointError) throw new WeightsFileError(err.message);
    throw err;
  }
  const { root } = checkpoint;
  let stateDict: Map<unknown, unknown> | null = null;
  let wrapperKey: string | null = null;
  let otherKeys: string[] = [];
  if (hasTensors(root)) {
    stateDict = root;
  } else if (root instanceof Map) {
    for (const key of WRAPPER_KEYS) {
      if (hasTensors(root.get(key))) {
        stateDict = root.get(key) as Map<unknown, unknown>;
        wrapperKey = key;
        break;
      }
    }
    otherKeys = [...root.keys()].map(String).filter((k) => k !== wrapperKey);
  }
  if (!stateDict) {
    checkpoint.close();
    const keys = root instanceof Map ? [...root.keys()].map(String).slice(0, 10).join(', ') : typeof root;
    throw new WeightsFileError(`no state dict of tensors found in this checkpoint (top level: ${keys})`);
  }
  const tensors = new Map<string, LazyTensor>();
  const nonTensorKeys: string[] = [];
  for (const [key, value] of stateDict) {
    if (value instanceof TensorRef) {
      tensors.set(String(key), { shape: value.shape, dtype: value.storage.dtype, read: () => checkpoint.readTensor(value) });
    } else {
      nonTensorKeys.push(String(key));
    }
  }
  return {
    format: 'torch-zip',
    tensors,
    metadata: {},
    wrapperKey,
    otherKeys,
    nonTensorKeys,
    close: () => checkpoint.close(),
  };
}
