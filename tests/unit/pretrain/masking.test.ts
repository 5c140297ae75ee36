import { describe, expect, it } from 'vitest';
import { blockMask, eligiblePatches, maeMask, pixelMask } from '../../../main/ml/pretrain/masking';
import { Rng } from '../../../main/ml/train/rng';

const sum = (a: ArrayLike<number>, from = 0, to = a.length): number => {
  let s = 0;
  for (let i = from; i < to; i++) s += a[i]!;
  return s;
};

/** A cone covering the left `fraction` of the image's columns. */
function leftCone(size: number, fraction: number): Float32Array {
  const m = new Float32Array(size * size);
  for (let y = 0; y < size; y++) for (let x = 0; x < size * fraction; x++) m[y * size + x] = 1;
  return m;
}

describe('eligible patches', () => {
  it('keeps patches at least half inside the cone', () => {
    const size = 64;
    // Columns 0..39 inside: patch column 2 (32..47) is exactly half inside, column 3 not at all.
    const e = eligiblePatches(leftCone(size, 40 / 64), size);
    expect(Array.from(e.subarray(0, 4))).toEqual([1, 1, 1, 0]);
    expect(sum(eligiblePatches(null, size))).toBe(16);
  });
});

describe('MAE random masking', () => {
  it('masks 75% of the patches per sample, the encoder keeping the rest in ascending order', () => {
    const grid = 14;
    const all = Array.from({ length: 3 }, () => new Uint8Array(grid * grid).fill(1));
    const m = maeMask(Rng.stream(1, 'mask'), all, grid, 0.75);
    expect(m.visibleCount).toBe(49);
    for (let b = 0; b < 3; b++) {
      expect(sum(m.masked, b * 196, (b + 1) * 196)).toBe(147);
      expect(sum(m.lossWeight, b * 196, (b + 1) * 196)).toBe(147);
      const vis = Array.from(m.visible!.subarray(b * 49, (b + 1) * 49));
      expect(vis).toEqual([...vis].sort((x, y) => x - y));
      for (const v of vis) expect(m.masked[b * 196 + v]).toBe(0);
    }
    // Different samples get different masks; the same seed the same ones.
    expect(Array.from(m.masked.subarray(0, 196))).not.toEqual(Array.from(m.masked.subarray(196, 392)));
    expect(Array.from(maeMask(Rng.stream(1, 'mask'), all, grid, 0.75).masked)).toEqual(Array.from(m.masked));
  });

  it('cone-aware: the ratio applies to eligible patches, outside patches count in no loss', () => {
    const grid = 8;
    const full = new Uint8Array(64).fill(1);
    const half = eligiblePatches(leftCone(128, 0.5), 128); // 32 eligible
    const m = maeMask(Rng.stream(2, 'mask'), [full, half], grid, 0.75);
    // Sample 0: 16 visible of 64; sample 1: 8 eligible visible + 8 outside patches as context.
    expect(m.visibleCount).toBe(16);
    expect(sum(m.lossWeight, 0, 64)).toBe(48);
    expect(sum(m.lossWeight, 64, 128)).toBe(24);
    const visibleInside = Array.from(m.visible!.subarray(16, 32)).filter((p) => half[p] === 1).length;
    expect(visibleInside).toBe(8);
    for (let p = 0; p < 64; p++) if (!half[p]) expect(m.lossWeight[64 + p]).toBe(0);
  });
});

describe('SimMIM block masking', () => {
  it('masks 60% of the 32-pixel blocks at 224 px (30 of 49 blocks = 120 patches)', () => {
    const grid = 14;
    const all = [new Uint8Array(196).fill(1), new Uint8Array(196).fill(1)];
    const m = blockMask(Rng.stream(3, 'mask'), all, grid, 0.6, 32, false);
    for (let b = 0; b < 2; b++) {
      expect(sum(m.masked, b * 196, (b + 1) * 196)).toBe(120);
      // Masked patches come in aligned 2x2 blocks.
      for (let r = 0; r < grid; r += 2) {
        for (let c = 0; c < grid; c += 2) {
          const block = [r * grid + c, r * grid + c + 1, (r + 1) * grid + c, (r + 1) * grid + c + 1].map(
            (p) => m.masked[b * 196 + p]!,
          );
          expect(new Set(block).size).toBe(1);
        }
      }
    }
    expect(m.visible).toBeNull();
  });

  it('cone-aware: masks ~60% of the eligible patches only', () => {
    const grid = 14;
    const e = eligiblePatches(leftCone(224, 0.5), 224); // 98 eligible
    const m = blockMask(Rng.stream(4, 'mask'), [e], grid, 0.6, 32, true);
    const masked = sum(m.masked);
    expect(masked).toBeGreaterThanOrEqual(59);
    expect(masked).toBeLessThanOrEqual(62);
    for (let p = 0; p < 196; p++) if (!e[p]) expect(m.masked[p]).toBe(0);
    expect(sum(m.lossWeight)).toBe(masked);
  });

  it('expands patch masks to pixels', () => {
    const m = blockMask(Rng.stream(5, 'mask'), [new Uint8Array(49).fill(1)], 7, 0.6, 32, false);
    const px = pixelMask(m);
    expect(px.length).toBe(112 * 112);
    expect(sum(px)).toBe(sum(m.masked) * 256);
    expect(px[0]).toBe(m.masked[0]);
    expect(px[111 * 112 + 111]).toBe(m.masked[48]);
  });
});
