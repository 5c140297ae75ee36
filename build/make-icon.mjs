#!/usr/bin/env node
// Draws build/icon.png (512x512): an ultrasound fan (annular sector) with depth bands and speckle on a
// rounded dark square. Run `node build/make-icon.mjs` to regenerate; the output is deterministic.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PNG } from 'pngjs';

const SIZE = 512;
const SUPERSAMPLE = 4;
const out = path.join(path.dirname(fileURLToPath(import.meta.url)), 'icon.png');

// Deterministic speckle: a small integer hash, not Math.random.
function hash(x, y) {
  let h = (x * 374761393 + y * 668265263) >>> 0;
  h = ((h ^ (h >>> 13)) * 1274126177) >>> 0;
  return ((h ^ (h >>> 16)) >>> 0) / 4294967295;
}

const background = [16, 27, 43];
const rim = [56, 189, 248];
const apex = { x: 256, y: 100 };
const innerRadius = 46;
const outerRadius = 350;
const halfAngle = (36 * Math.PI) / 180;
const corner = 96;

function insideRoundedSquare(x, y) {
  const m = 16;
  const cx = Math.min(Math.max(x, m + corner), SIZE - m - corner);
  const cy = Math.min(Math.max(y, m + corner), SIZE - m - corner);
  return (x - cx) ** 2 + (y - cy) ** 2 <= corner ** 2 && x >= m && x <= SIZE - m && y >= m && y <= SIZE - m;
}

/** Colour of one sub-sample, or null outside the icon. */
function sample(x, y) {
  if (!insideRoundedSquare(x, y)) return null;
  const dx = x - apex.x;
  const dy = y - apex.y;
  const r = Math.hypot(dx, dy);
  const angle = Math.atan2(dx, dy); // 0 straight down
  const inFan = dy > 0 && Math.abs(angle) <= halfAngle && r >= innerRadius && r <= outerRadius;
  if (!inFan) {
    const nearEdge =
      dy > 0 && Math.abs(angle) <= halfAngle + 0.02 && r >= innerRadius - 5 && r <= outerRadius + 5;
    return nearEdge ? rim : background;
  }
  const depth = (r - innerRadius) / (outerRadius - innerRadius);
  // Bright tissue bands at two depths, a dark cyst-like hole, speckle everywhere, attenuation with depth.
  const band = Math.exp(-(((depth - 0.32) / 0.05) ** 2)) + 0.8 * Math.exp(-(((depth - 0.68) / 0.04) ** 2));
  const cyst = Math.hypot(dx - 38, dy - 215) < 38 ? 0.15 : 1;
  const speckle = 0.55 + 0.45 * hash(Math.floor(r / 3), Math.floor(angle * 160));
  const level = Math.min(1, (0.28 + 0.75 * band) * speckle * cyst * (1 - 0.45 * depth));
  const tint = [150 + 105 * level, 170 + 85 * level, 185 + 70 * level];
  return tint.map((c, i) => background[i] + (c - background[i]) * (0.25 + 0.75 * level));
}

const png = new PNG({ width: SIZE, height: SIZE });
for (let y = 0; y < SIZE; y++) {
  for (let x = 0; x < SIZE; x++) {
    const sum = [0, 0, 0];
    let covered = 0;
    for (let sy = 0; sy < SUPERSAMPLE; sy++) {
      for (let sx = 0; sx < SUPERSAMPLE; sx++) {
        const c = sample(x + (sx + 0.5) / SUPERSAMPLE, y + (sy + 0.5) / SUPERSAMPLE);
        if (!c) continue;
        covered++;
        for (let i = 0; i < 3; i++) sum[i] += c[i];
      }
    }
    const o = (y * SIZE + x) * 4;
    for (let i = 0; i < 3; i++) png.data[o + i] = covered ? Math.round(sum[i] / covered) : 0;
    png.data[o + 3] = Math.round((255 * covered) / SUPERSAMPLE ** 2);
  }
}
fs.writeFileSync(out, PNG.sync.write(png));
process.stdout.write(`wrote ${path.relative(process.cwd(), out)} (${SIZE}x${SIZE})\n`);
