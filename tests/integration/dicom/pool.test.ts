import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeDicom, DecodePool, DicomError } from '../../../main/dicom';
import type { DecodePoolOptions } from '../../../main/dicom';
import { DICOM_ROOT } from './corpus';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

const file = (rel: string): string => path.join(DICOM_ROOT, rel);
const CINE = file('ultrasound/pydicom/examples_ybr_color.dcm'); // 30 frames, JPEG baseline YBR_FULL_422
const IMPLICIT = file('ultrasound/dicomParser/IM00001.implicit_little_endian.dcm'); // 8 frames
const JPEG12 = file('encodings/pydicom/JPEG-lossy.dcm'); // 12-bit JPEG Extended (dcmjs-codecs WASM)

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dicom-pool-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/**
 * A valid Part 10 file (explicit VR LE) whose dataset is `count` empty private LO elements: dicom-parser
 * builds one JavaScript object per element, so parsing it outgrows a small V8 heap for real.
 */
function writeManyElementsFile(count: number): string {
  const preamble = Buffer.alloc(132);
  preamble.write('DICM', 128, 'latin1');
  const syntax = Buffer.from('1.2.840.10008.1.2.1\0', 'latin1');
  const syntaxElement = Buffer.alloc(8);
  syntaxElement.writeUInt16LE(0x0002, 0);
  syntaxElement.writeUInt16LE(0x0010, 2);
  syntaxElement.write('UI', 4, 'latin1');
  syntaxElement.writeUInt16LE(syntax.length, 6);
  const groupLength = Buffer.alloc(12);
  groupLength.writeUInt16LE(0x0002, 0);
  groupLength.write('UL', 4, 'latin1');
  groupLength.writeUInt16LE(4, 6);
  groupLength.writeUInt32LE(syntaxElement.length + syntax.length, 8);
  const body = Buffer.alloc(count * 8);
  for (let i = 0; i < count; i++) {
    const at = i * 8;
    body.writeUInt16LE(0x0011 + 2 * Math.floor(i / 0xf000), at); // odd (private) groups
    body.writeUInt16LE(0x1000 + (i % 0xf000), at + 2);
    body.write('LO', at + 4, 'latin1');
  }
  const target = path.join(tmp, 'many-elements.dcm');
  fs.writeFileSync(target, Buffer.concat([preamble, groupLength, syntaxElement, syntax, body]));
  return target;
}

let manyElementsPath: string | null = null;
const manyElementsFile = (): string => (manyElementsPath ??= writeManyElementsFile(1_000_000));

/** Thread mode is chosen through USFM_DECODE_ISOLATION, as a deployment would; process mode by option. */
function makePool(mode: 'process' | 'thread', options: DecodePoolOptions = {}): DecodePool {
  if (mode === 'process') return new DecodePool({ ...options, isolation: 'process' });
  const saved = process.env.USFM_DECODE_ISOLATION;
  process.env.USFM_DECODE_ISOLATION = 'thread';
  try {
    return new DecodePool(options);
  } finally {
    if (saved === undefined) delete process.env.USFM_DECODE_ISOLATION;
    else process.env.USFM_DECODE_ISOLATION = saved;
  }
}

describe('isolation mode', () => {
  it('is a child process in plain Node, a worker thread when USFM_DECODE_ISOLATION=thread; the option wins', () => {
    expect(process.versions.electron).toBeUndefined();
    expect(new DecodePool().isolation).toBe('process');
    expect(makePool('thread').isolation).toBe('thread');
    const saved = process.env.USFM_DECODE_ISOLATION;
    process.env.USFM_DECODE_ISOLATION = 'thread';
    try {
      expect(new DecodePool({ isolation: 'process' }).isolation).toBe('process');
    } finally {
      if (saved === undefined) delete process.env.USFM_DECODE_ISOLATION;
      else process.env.USFM_DECODE_ISOLATION = saved;
    }
  });
});

describe.each(['process', 'thread'] as const)('DecodePool (%s isolation)', (mode) => {
  let pool: DecodePool;
  beforeAll(async () => {
    pool = makePool(mode, { timeoutMs: 60_000, maxOldSpaceMb: 512 });
    expect(pool.isolation).toBe(mode);
    await pool.warmUp();
  });
  afterAll(() => pool.close());

  it('decodes to the same pixels as in-process, reusing one decoder across files', async () => {
    const [id] = pool.workerIds();
    expect(pool.pids()).toEqual(mode === 'process' ? [id] : []);
    const viaPool = await pool.decodeFile(CINE, { stride: 7 });
    const inProcess = await decodeDicom(fs.readFileSync(CINE), 'examples_ybr_color.dcm', { stride: 7 });
    expect(viaPool.frames.map((f) => f.index)).toEqual([0, 7, 14, 21, 28]);
    expect(viaPool.info).toEqual(inProcess.info);
    viaPool.frames.forEach((frame, i) => {
      expect(frame.raster.data).toBeInstanceOf(Uint8Array);
      expect(
        Buffer.from(
          frame.raster.data.buffer,
          frame.raster.data.byteOffset,
          frame.raster.data.byteLength,
        ).equals(Buffer.from(inProcess.frames[i].raster.data)),
      ).toBe(true);
    });
    const mr = await pool.decodeFile(file('encodings/pydicom/MR_small_bigendian.dcm'));
    expect(mr.frames[0].raster.data).toBeInstanceOf(Int16Array);
    const jpeg12 = await pool.decodeFile(JPEG12);
    const jpeg12InProcess = await decodeDicom(fs.readFileSync(JPEG12), 'JPEG-lossy.dcm');
    expect(jpeg12.frames[0].raster.data).toBeInstanceOf(Uint16Array);
    const bytesOf = (data: ArrayBufferView): Buffer =>
      Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    expect(bytesOf(jpeg12.frames[0].raster.data).equals(bytesOf(jpeg12InProcess.frames[0].raster.data))).toBe(
      true,
    );
    expect(pool.workerIds()).toEqual([id]);
  });

  it('returns de-identified metadata and header-only info', async () => {
    const key = crypto.randomBytes(32);
    const header = await pool.readInfo(file('ultrasound/pydicom/examples_palette.dcm'), { deidKey: key });
    expect(header.frames).toEqual([]);
    expect(header.info.ultrasoundRegions.length).toBeGreaterThan(0);
    expect(header.deidentified?.patientKey).toMatch(/^[0-9a-f]{32}$/);
  });

  it('reports a broken file as a DicomError for that file only', async () => {
    const error = await pool.decodeFile(file('broken/pydicom/MR_truncated.dcm')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DicomError);
    expect((error as DicomError).code).toBe('TRUNCATED');
    expect((error as DicomError).message).toMatch(/^MR_truncated\.dcm: truncated pixel data/);
    const missing = await pool.decodeFile(path.join(tmp, 'does-not-exist.dcm')).catch((e: unknown) => e);
    expect((missing as DicomError).code).toBe('IO');
    const ok = await pool.decodeFile(file('encodings/pydicom/MR_small.dcm'));
    expect(ok.frames).toHaveLength(1);
  });

  it('streams frames one at a time and stops when the consumer stops', async () => {
    const stream = await pool.stream(IMPLICIT, { stride: 2 });
    expect(stream.info.numberOfFrames).toBe(8);
    expect(stream.frameCount).toBe(4);
    const seen: number[] = [];
    for await (const frame of stream.frames) {
      seen.push(frame.index);
      if (seen.length === 2) break;
    }
    expect(seen).toEqual([0, 2]);
    const all: number[] = [];
    for await (const frame of pool.frames(IMPLICIT)) all.push(frame.index);
    expect(all).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('kills a decode that runs past its time limit, reports TIMEOUT and carries on with a new decoder', async () => {
    const before = pool.workerIds();
    const error = await pool.decodeFile(CINE, { timeoutMs: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DicomError);
    expect((error as DicomError).code).toBe('TIMEOUT');
    expect((error as DicomError).message).toMatch(/^examples_ybr_color\.dcm: decoding took longer than 1 ms/);
    const after = await pool.decodeFile(file('encodings/pydicom/MR_small.dcm'));
    expect(after.frames).toHaveLength(1);
    expect(pool.workerIds()).toHaveLength(1);
    expect(pool.workerIds()).not.toEqual(before);
  });

  // A process can be killed from outside; a thread cannot (the heap-limit test below covers threads).
  if (mode === 'process') {
    it('survives the child dying mid-file: WORKER_CRASHED for that file, the next file decodes', async () => {
      const stream = await pool.stream(CINE);
      const [pid] = pool.pids();
      process.kill(pid, 'SIGKILL');
      const error = await (async () => {
        for await (const frame of stream.frames) void frame;
      })().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DicomError);
      expect((error as DicomError).code).toBe('WORKER_CRASHED');
      const next = await pool.decodeFile(file('ultrasound/WG04/US1_RLE.dcm'));
      expect(next.frames[0].raster.channels).toBe(3);
      expect(pool.pids()[0]).not.toBe(pid);
    });
  }

  it('a decoder that exhausts its heap limit costs only that file (TOO_LARGE); the next file decodes', async () => {
    const many = manyElementsFile();
    const small = makePool(mode, { maxOldSpaceMb: 24 });
    try {
      await small.warmUp();
      const [before] = small.workerIds();
      const error = await small.decodeFile(many).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DicomError);
      expect((error as DicomError).code).toBe('TOO_LARGE');
      expect((error as DicomError).message).toBe(
        'many-elements.dcm: decoding ran out of memory (limit 24 MB)',
      );
      const next = await small.decodeFile(JPEG12);
      expect(next.frames[0].raster.data[420 * 256 + 140]).toBe(244);
      expect(small.workerIds()).toHaveLength(1);
      expect(small.workerIds()[0]).not.toBe(before);
    } finally {
      await small.close();
    }
  });

  it('refuses decodes over the size limit before allocating', async () => {
    const error = await pool.decodeFile(CINE, { maxDecodedBytes: 1_000_000 }).catch((e: unknown) => e);
    expect((error as DicomError).code).toBe('TOO_LARGE');
  });

  it('several decoders decode files side by side', async () => {
    const wide = makePool(mode, { size: 2 });
    try {
      const files = [
        CINE,
        IMPLICIT,
        file('ultrasound/WG04/US1_RLE.dcm'),
        file('encodings/pydicom-data/HTJ2K_08_RGB.dcm'),
      ];
      const results = await Promise.all(files.map((f) => wide.decodeFile(f, { maxFrames: 2 })));
      expect(results.map((r) => r.frames.length)).toEqual([2, 2, 1, 1]);
      expect(wide.workerIds()).toHaveLength(2);
      expect(new Set(wide.workerIds()).size).toBe(2);
    } finally {
      await wide.close();
    }
  });
});

describe('the bundled decoder entry (dist/main/dicom-worker.mjs)', () => {
  let outdir: string;
  beforeAll(() => {
    // Inside the repository so the bundle resolves node_modules (codecs and their .wasm) as it would when shipped.
    fs.mkdirSync(path.join(repoRoot, 'tmp'), { recursive: true });
    outdir = fs.mkdtempSync(path.join(repoRoot, 'tmp', 'dicom-bundle-'));
    execFileSync(
      process.execPath,
      [path.join(repoRoot, 'scripts', 'build-main.mjs'), '--outdir', outdir, '--only', 'main'],
      {
        cwd: repoRoot,
        stdio: 'ignore',
      },
    );
  });
  afterAll(() => fs.rmSync(outdir, { recursive: true, force: true }));

  it.each(['process', 'thread'] as const)('decodes in %s mode', async (mode) => {
    const entry = { file: path.join(outdir, 'main', 'dicom-worker.mjs'), execArgv: [] };
    const bundled = makePool(mode, { workerEntry: entry, maxOldSpaceMb: 256 });
    try {
      const jpeg12 = await bundled.decodeFile(JPEG12);
      expect(jpeg12.frames[0].raster.data[420 * 256 + 140]).toBe(244);
      const cine = await bundled.decodeFile(CINE, { maxFrames: 2 });
      expect(cine.frames.map((f) => f.raster.channels)).toEqual([3, 3]);
    } finally {
      await bundled.close();
    }
  });
});
