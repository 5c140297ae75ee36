/**
 * Reconstruction previews: for a few fixed images, three panels side by side (original, what the
 * encoder saw, reconstruction), one row per image, written as an 8-bit grey PNG under the run folder
 * (`previews/step-000100.png`) for the renderer to show.
 */
import fs from 'node:fs';
import path from 'node:path';
import { encodePng } from '../../imaging/png';
import { writeFileAtomic } from '../../util/atomic-write';

export const PREVIEW_DIR = 'previews';
const GAP = 4;

/** Panels [rows][columns], each size × size in [0, 1] (values are clamped). */
export function previewPng(panels: Float32Array[][], size: number): Buffer {
  const rows = panels.length;
  const cols = Math.max(...panels.map((r) => r.length));
  const width = cols * size + (cols - 1) * GAP;
  const height = rows * size + (rows - 1) * GAP;
  const data = new Uint8Array(width * height).fill(32);
  panels.forEach((row, r) =>
    row.forEach((panel, c) => {
      for (let y = 0; y < size; y++) {
        const out = (r * (size + GAP) + y) * width + c * (size + GAP);
        for (let x = 0; x < size; x++) {
          const v = panel[y * size + x]!;
          data[out + x] = Math.round(255 * (v <= 0 ? 0 : v >= 1 ? 1 : v));
        }
      }
    }),
  );
  return encodePng({ width, height, channels: 1, bitDepth: 8, signed: false, data });
}

export function previewFileName(step: number): string {
  return `step-${String(step).padStart(6, '0')}.png`;
}

export function writePreview(runDir: string, step: number, png: Uint8Array): string {
  const file = path.join(runDir, PREVIEW_DIR, previewFileName(step));
  writeFileAtomic(file, png);
  return file;
}

/** Steps that have a preview, ascending. */
export function listPreviews(runDir: string): number[] {
  let names: string[];
  try {
    names = fs.readdirSync(path.join(runDir, PREVIEW_DIR));
  } catch {
    return [];
  }
  return names
    .map((n) => /^step-(\d+)\.png$/.exec(n))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b);
}

export function readPreview(runDir: string, step: number): Buffer | null {
  try {
    return fs.readFileSync(path.join(runDir, PREVIEW_DIR, previewFileName(step)));
  } catch {
    return null;
  }
}
