import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { blankOutsideCone, ConeGeometry, maskArea, maskBounds, maskCoverage, maskIoU, rasterizeCone } from '../../../main/imaging/cone';
import { detectCone } from '../../../main/imaging/cone-detect';
import { readPng } from '../../../main/ingest/image-read';
import { repoRoot } from '../../helpers/temp';

describe('cone geometry', () => {
  it('rasterises a rectangle with inclusive bounds, clipped to the image', () => {
    const m = rasterizeCone({ shape: 'rectangle', x0: 2, y0: 1, x1: 5, y1: 3 }, 8, 6);
    expect(maskArea(m)).toBe(4 * 3);
    expect(maskBounds(m, 8, 6)).toEqual({ x0: 2, y0: 1, x1: 5, y1: 3 });
    expect(maskArea(rasterizeCone({ shape: 'rectangle', x0: -10, y0: -10, x1: 100, y1: 100 }, 8, 6))).toBe(48);
  });

  it('rasterises a sector: radii and angles measured from straight down', () => {
    const g: ConeGeometry = { shape: 'sector', apexX: 50, apexY: 0, innerRadius: 10, outerRadius: 80, startAngle: -Math.PI / 4, endAngle: Math.PI / 4 };
    const m = rasterizeCone(g, 101, 100);
    const at = (x: number, y: number): number => m[y * 101 + x]!;
    expect(at(50, 50)).toBe(1); // straight down, r 50
    expect(at(50, 5)).toBe(0); // inside the inner radius
    expect(at(50, 85)).toBe(0); // beyond the outer radius
    expect(at(20, 20)).toBe(0); // left of the -45 degree edge
    expect(at(30, 40)).toBe(1);
    // Area close to the analytic one: (r1^2 - r0^2) * angle / 2.
    const analytic = ((80 * 80 - 10 * 10) * (Math.PI / 2)) / 2;
    expect(Math.abs(maskArea(m) - analytic) / analytic).toBeLessThan(0.02);
    // Symmetric about the axis.
    for (let y = 0; y < 100; y++) for (let d = 0; d <= 50; d++) expect(at(50 - d, y)).toBe(at(50 + d, y));
  });

  it('refuses empty geometries', () => {
    expect(ConeGeometry.safeParse({ shape: 'rectangle', x0: 5, y0: 0, x1: 4, y1: 3 }).success).toBe(false);
    expect(ConeGeometry.safeParse({ shape: 'sector', apexX: 0, apexY: 0, innerRadius: 5, outerRadius: 4, startAngle: -1, endAngle: 1 }).success).toBe(false);
  });

  it('IoU and coverage', () => {
    const a = rasterizeCone({ shape: 'rectangle', x0: 0, y0: 0, x1: 9, y1: 9 }, 20, 20);
    const b = rasterizeCone({ shape: 'rectangle', x0: 5, y0: 0, x1: 14, y1: 9 }, 20, 20);
    expect(maskIoU(a, b)).toBeCloseTo(50 / 150, 10);
    expect(maskCoverage(a, b)).toBeCloseTo(0.5, 10);
    expect(maskIoU(a, a)).toBe(1);
  });
});

describe('blankOutsideCone', () => {
  it('zeroes burned-in text outside the cone of a real scan and keeps the scan untouched', () => {
    const file = path.join(repoRoot, '..', 'shared', 'data', 'busi', 'Dataset_BUSI_with_GT', 'benign', 'benign (1).png');
    const image = readPng(fs.readFileSync(file));
    const cone = rasterizeCone({ shape: 'rectangle', x0: 0, y0: 0, x1: image.width - 1, y1: 400 }, image.width, image.height);
    const out = blankOutsideCone(image, cone);
    let changedInside = 0;
    let nonZeroOutside = 0;
    for (let p = 0; p < cone.length; p++) {
      if (cone[p]) changedInside += out.data[p] !== image.data[p] ? 1 : 0;
      else nonZeroOutside += out.data[p] !== 0 ? 1 : 0;
    }
    expect(changedInside).toBe(0);
    expect(nonZeroOutside).toBe(0);
    // "LEFT BREAST" is burned in below row 400: it was there and is gone.
    let before = 0;
    for (let p = 401 * image.width; p < cone.length; p++) before += image.data[p]! > 200 ? 1 : 0;
    expect(before).toBeGreaterThan(50);
    expect(image.data).not.toBe(out.data);
  });

  it('blanks every channel of RGB images', () => {
    const rgb = { width: 2, height: 1, channels: 3 as const, bitDepth: 8 as const, signed: false, data: new Uint8Array([1, 2, 3, 4, 5, 6]) };
    expect([...blankOutsideCone(rgb, new Uint8Array([1, 0])).data]).toEqual([1, 2, 3, 0, 0, 0]);
  });
});

describe('detection on degenerate input', () => {
  it('a black frame gives the whole image with zero confidence, not an error', () => {
    const black = { width: 64, height: 48, channels: 1 as const, bitDepth: 8 as const, signed: false, data: new Uint8Array(64 * 48) };
    const d = detectCone([black]);
    expect(d.method).toBe('full-image');
    expect(d.confidence).toBe(0);
    expect(d.geometry).toEqual({ shape: 'rectangle', x0: 0, y0: 0, x1: 63, y1: 47 });
  });

  it('16-bit frames are analysed too', () => {
    const file = path.join(repoRoot, 'tests', 'fixtures', 'images', 'grey16.png');
    const d = detectCone([readPng(fs.readFileSync(file))]);
    expect(d.geometry.shape).toBe('rectangle');
  });
});
