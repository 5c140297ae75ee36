import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeDicom } from '../../../main/dicom';
import { readPng } from '../../../main/ingest/image-read';
import { cachePath, decodeCachedRaster, encodeCachedRaster, rasterKey, readCachedRaster, writeCachedRaster } from '../../../main/imaging/pixel-cache';
import { encodePng } from '../../../main/imaging/png';
import { makeThumbnail } from '../../../main/imaging/thumbnail';
import type { Raster } from '../../../main/imaging/raster';
import { repoRoot, sharedDir, tempDir } from '../../helpers/temp';

const { dir: dataDir, cleanup } = tempDir('usfm-cache-');
afterAll(() => cleanup());

async function realRasters(): Promise<Record<string, Raster>> {
  const images = path.join(repoRoot, 'tests', 'fixtures', 'images');
  const mr = await decodeDicom(fs.readFileSync(path.join(sharedDir, 'data', 'dicom', 'encodings', 'pydicom', 'MR_small.dcm')), 'MR_small.dcm');
  const us = await decodeDicom(fs.readFileSync(path.join(sharedDir, 'data', 'dicom', 'ultrasound', 'pydicom-data', 'US1_UNCR.dcm')), 'US1_UNCR.dcm');
  const mrRaster = mr.frames[0]!.raster;
  return {
    grey8: readPng(fs.readFileSync(path.join(images, 'grey8.png'))),
    grey16: readPng(fs.readFileSync(path.join(images, 'grey16.png'))),
    rgb8: us.frames[0]!.raster,
    // MR_small is signed 16-bit: exercises negative samples.
    signed16: mrRaster,
  };
}

describe('pixel cache', () => {
  it('round-trips grey and RGB, 8 and 16 bit, signed, exactly', async () => {
    const rasters = await realRasters();
    expect(rasters.signed16!.signed).toBe(true);
    for (const [name, r] of Object.entries(rasters)) {
      const back = decodeCachedRaster(encodeCachedRaster(r), name);
      expect([back.width, back.height, back.channels, back.bitDepth, back.signed], name).toEqual([r.width, r.height, r.channels, r.bitDepth, r.signed]);
      expect(back.data.constructor).toBe(r.data.constructor);
      expect(Buffer.from(back.data.buffer, back.data.byteOffset, back.data.byteLength).equals(Buffer.from(r.data.buffer, r.data.byteOffset, r.data.byteLength)), name).toBe(true);
    }
  });

  it('is content-addressed: equal pixels, one file; different pixels, different keys', async () => {
    const { grey8, grey16 } = await realRasters();
    const a = writeCachedRaster(dataDir, grey8!);
    const b = writeCachedRaster(dataDir, { ...grey8!, data: grey8!.data.slice() });
    expect(a.key).toBe(b.key);
    expect(a.written).toBe(true);
    expect(b.written).toBe(false);
    expect(rasterKey(grey16!)).not.toBe(a.key);
    expect(cachePath(dataDir, a.key).startsWith(path.join(dataDir, 'cache', 'pixels'))).toBe(true);
    expect(readCachedRaster(dataDir, a.key).data).toEqual(grey8!.data);
  });

  it('stores a scan smaller than its raw samples', async () => {
    const { rgb8 } = await realRasters();
    expect(encodeCachedRaster(rgb8!).length).toBeLessThan(rgb8!.data.length / 2);
  });

  it('reports a damaged or missing entry instead of returning wrong pixels', async () => {
    const { grey8 } = await realRasters();
    const bytes = encodeCachedRaster(grey8!);
    expect(() => decodeCachedRaster(bytes.subarray(0, bytes.length - 100))).toThrow();
    expect(() => decodeCachedRaster(Buffer.from('USPX nonsense'))).toThrow(/not a pixel cache file/);
    expect(() => readCachedRaster(dataDir, 'f'.repeat(64))).toThrow(/missing/);
    expect(() => cachePath(dataDir, '../../etc/passwd')).toThrow();
  });
});

describe('PNG export and thumbnails', () => {
  it('PNG export holds the stored samples exactly (8/16-bit grey, RGB)', async () => {
    const rasters = await realRasters();
    for (const name of ['grey8', 'grey16', 'rgb8'] as const) {
      const r = rasters[name]!;
      const back = readPng(encodePng(r));
      expect([back.width, back.height, back.channels, back.bitDepth], name).toEqual([r.width, r.height, r.channels, r.bitDepth]);
      expect([...back.data], name).toEqual([...r.data]);
    }
  });

  it('signed 16-bit is exported offset by 32768', async () => {
    const { signed16 } = await realRasters();
    const back = readPng(encodePng(signed16!));
    for (let i = 0; i < back.data.length; i += 97) expect(back.data[i]).toBe(signed16!.data[i]! + 32768);
  });

  it('thumbnails are small 8-bit PNGs keeping the aspect ratio', async () => {
    const { rgb8, grey16 } = await realRasters();
    const t = readPng(makeThumbnail(rgb8!));
    expect([t.width, t.height, t.bitDepth]).toEqual([128, 96, 8]);
    expect(readPng(makeThumbnail(grey16!)).bitDepth).toBe(8);
    expect(makeThumbnail(rgb8!).length).toBeLessThan(40_000);
  });
});
