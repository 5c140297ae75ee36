/**
 * Runs reference computations with Debian's /usr/bin/python3 (torch + numpy), never the pyenv python on PATH.
 * Scripts receive their arguments in sys.argv and answer on stdout.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parseSafetensors, toFloat32 } from '../../../main/weights/safetensors';

export const PYTHON = '/usr/bin/python3';

export function runPython(script: string, args: string[] = [], options: { cwd?: string } = {}): string {
  const result = spawnSync(PYTHON, ['-c', script, ...args], { cwd: options.cwd, encoding: 'utf8', maxBuffer: 256 << 20, env: { ...process.env, PYTHONHASHSEED: '0' } });
  if (result.status !== 0) throw new Error(`python failed (${result.status}): ${result.stderr}`);
  return result.stdout;
}

export function runPythonJson<T>(script: string, args: string[] = [], options: { cwd?: string } = {}): T {
  return JSON.parse(runPython(script, args, options)) as T;
}

/** A tiny safetensors writer for Python scripts (the `safetensors` package is not installable here). */
export const PY_SAFETENSORS_WRITER = `
import json, struct
import numpy as np
def save_safetensors(path, tensors, meta=None):
    header, blobs, off = {}, [], 0
    for name, t in tensors.items():
        a = t.detach().cpu().contiguous().numpy() if hasattr(t, 'detach') else np.ascontiguousarray(t)
        dt = {np.dtype('float32'): 'F32', np.dtype('int64'): 'I64', np.dtype('int32'): 'I32'}[a.dtype]
        b = a.astype(a.dtype.newbyteorder('<')).tobytes()
        header[name] = {'dtype': dt, 'shape': list(a.shape), 'data_offsets': [off, off + len(b)]}
        blobs.append(b); off += len(b)
    if meta: header['__metadata__'] = {k: str(v) for k, v in meta.items()}
    h = json.dumps(header).encode(); h += b' ' * ((8 - len(h) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(h))); f.write(h)
        for b in blobs: f.write(b)
`;

/** A tiny safetensors reader for Python scripts: JSON header + torch.frombuffer, as the README describes. */
export const PY_SAFETENSORS_READER = `
import json, struct, torch
def load_safetensors(path):
    with open(path, 'rb') as f:
        raw = f.read()
    n = struct.unpack('<Q', raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    meta = header.pop('__metadata__', {})
    dtypes = {'F32': torch.float32, 'F16': torch.float16, 'BF16': torch.bfloat16, 'F64': torch.float64, 'I64': torch.int64, 'I32': torch.int32}
    out = {}
    for name, e in header.items():
        a, b = e['data_offsets']
        buf = bytearray(raw[8 + n + a: 8 + n + b])
        t = torch.frombuffer(buf, dtype=dtypes[e['dtype']]) if len(buf) else torch.empty(0, dtype=dtypes[e['dtype']])
        out[name] = t.reshape(e['shape'])
    return out, meta
`;

/** Tensors of a safetensors file written by a Python script, as float32. */
export function readFloatTensors(file: string): Map<string, { shape: number[]; data: Float32Array }> {
  const parsed = parseSafetensors(new Uint8Array(fs.readFileSync(file)), path.basename(file));
  return new Map([...parsed.tensors].map(([k, t]) => [k, { shape: t.shape, data: toFloat32(t) }]));
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}
