import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { binariseMask, readImage, readJpeg, readPng, sniffImageFormat } from '../../../main/ingest/image-read';
import { rasterBytes } from '../../../main/imaging/raster';
import { repoRoot } from '../../helpers/temp';

const dir = path.join(repoRoot, 'tests', 'fixtures', 'images');
const expected = JSON.parse(fs.readFileSync(path.join(dir, 'expected.json'), 'utf8')) as Record<
  string,
  { width: number; height: number; channels?: number; bitDepth?: number; sha256?: string; mean?: number; ones?: number }
>;
const bytes = (name: string): Buffer => fs.readFileSync(path.join(dir, name));

describe('PNG reading (pngjs)', () => {
  for (const name of ['grey8.png', 'grey16.png', 'rgb8.png', 'rgba8.png', 'palette.png', 'grey-as-rgb.png']) {
    it(`${name}: the stored samples, exactly`, () => {
      const e = expected[name]!;
      const r = readPng(bytes(name));
      expect({ width: r.width, height: r.height, channels: r.channels, bitDepth: r.bitDepth, signed: r.signed }).toEqual({
        width: e.width,
        height: e.height,
        channels: e.channels,
        bitDepth: e.bitDepth,
        signed: false,
      });
      expect(crypto.createHash('sha256').update(rasterBytes(r)).digest('hex')).toBe(e.sha256);
    });
  }

  it('16-bit data keeps its full range (no rescaling to 8 bits)', () => {
    const r = readPng(bytes('grey16.png'));
    expect(r.data).toBeInstanceOf(Uint16Array);
    expect(Math.max(...r.data)).toBeGreaterThan(255 * 100);
  });

  it('real BUSI scans stored as RGB come out grey (one channel, lossless)', () => {
    const file = path.join(repoRoot, 'resources', 'samples', 'benign', 'benign (20).png');
    const r = readPng(fs.readFileSync(file));
    expect(r.channels).toBe(1);
    expect([r.width, r.height]).toEqual([319, 473]);
  });

  it('rejects a truncated PNG with an error', () => {
    const b = bytes('rgb8.png');
    expect(() => readPng(b.subarray(0, Math.floor(b.length / 2)))).toThrow();
    expect(() => readPng(Buffer.from('not a png at all, just text'))).toThrow();
  });
});

describe('JPEG reading (libjpeg-turbo WASM)', () => {
  for (const name of ['grey8.jpg', 'rgb8.jpg']) {
    it(`${name}: size, channels, and samples as a reference decoder gives them`, async () => {
      const e = expected[name]!;
      const r = await readJpeg(bytes(name));
      expect([r.width, r.height, r.channels, r.bitDepth]).toEqual([e.width, e.height, e.channels, 8]);
      let sum = 0;
      for (let i = 0; i < r.data.length; i++) sum += r.data[i]!;
      const mean = sum / r.data.length;
      expect(Math.abs(mean - e.mean!)).toBeLessThan(0.5);
    });
  }

  it('a corrupt JPEG fails with an error, not a crash', async () => {
    const b = Buffer.from(bytes('rgb8.jpg'));
    b.fill(0x55, 200, b.length - 10);
    await expect(readJpeg(b.subarray(0, 400))).rejects.toThrow();
  });
});

describe('format sniffing and masks', () => {
  it('recognises PNG and JPEG by content', () => {
    expect(sniffImageFormat(bytes('grey8.png'))).toBe('png');
    expect(sniffImageFormat(bytes('grey8.jpg'))).toBe('jpeg');
    expect(sniffImageFormat(Buffer.from('DICM'))).toBeNull();
  });

  it('binarises 1-bit PNG masks and lossy JPEG masks at > 127', async () => {
    for (const name of ['mask1bit.png', 'mask.jpg']) {
      const e = expected[name]!;
      const mask = binariseMask(await readImage(bytes(name)));
      const ones = mask.reduce((s, v) => s + v, 0);
      expect(mask.length).toBe(e.width * e.height);
      // JPEG ringing moves the edge by at most a pixel here and there.
      expect(Math.abs(ones - e.ones!)).toBeLessThanOrEqual(name.endsWith('.jpg') ? 0.03 * e.ones! : 0);
    }
  });
});
