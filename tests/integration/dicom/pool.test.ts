import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeDicom, DecodePool, DicomError } from '../../../main/dicom';
import { DICOM_ROOT } from './corpus';

const file = (rel: string): string => path.join(DICOM_ROOT, rel);
const CINE = file('ultrasound/pydicom/examples_ybr_color.dcm'); // 30 frames, JPEG baseline YBR_FULL_422
const IMPLICIT = file('ultrasound/dicomParser/IM00001.implicit_little_endian.dcm'); // 8 frames

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dicom-pool-'));
const pool = new DecodePool({ timeoutMs: 60_000, maxOldSpaceMb: 512 });
beforeAll(() => pool.warmUp());
afterAll(async () => {
  await pool.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('DecodePool', () => {
  it('decodes in a child process to the same pixels as in-process, reusing one child across files', async () => {
    const [pid] = pool.pids();
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
    expect(pool.pids()).toEqual([pid]);
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

  it('kills a decode that runs past its time limit, reports TIMEOUT and carries on with a new child', async () => {
    const before = pool.pids();
    const error = await pool.decodeFile(CINE, { timeoutMs: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DicomError);
    expect((error as DicomError).code).toBe('TIMEOUT');
    expect((error as DicomError).message).toMatch(/^examples_ybr_color\.dcm: decoding took longer than 1 ms/);
    const after = await pool.decodeFile(file('encodings/pydicom/MR_small.dcm'));
    expect(after.frames).toHaveLength(1);
    expect(pool.pids()).not.toEqual(before);
  });

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

  it('refuses decodes over the size limit before allocating', async () => {
    const error = await pool.decodeFile(CINE, { maxDecodedBytes: 1_000_000 }).catch((e: unknown) => e);
    expect((error as DicomError).code).toBe('TOO_LARGE');
  });

  it('several children decode files side by side', async () => {
    const wide = new DecodePool({ size: 2 });
    try {
      const files = [
        CINE,
        IMPLICIT,
        file('ultrasound/WG04/US1_RLE.dcm'),
        file('encodings/pydicom-data/HTJ2K_08_RGB.dcm'),
      ];
      const results = await Promise.all(files.map((f) => wide.decodeFile(f, { maxFrames: 2 })));
      expect(results.map((r) => r.frames.length)).toEqual([2, 2, 1, 1]);
      expect(wide.pids()).toHaveLength(2);
    } finally {
      await wide.close();
    }
  });
});
