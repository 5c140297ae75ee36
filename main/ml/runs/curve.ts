/**
 * The loss curve of a run: one JSON line per optimizer step in `curve.jsonl` (step, loss terms, lr, rate).
 * A resumed run first cuts the file back to its checkpoint's step, so the curve continues where it stopped.
 */
import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../../util/atomic-write';

export interface CurvePoint {
  step: number;
  loss: number;
  terms: Record<string, number>;
  lr: number;
  gradNorm: number;
  imagesPerSecond: number;
  time: string;
}

const FILE = 'curve.jsonl';

export function curvePath(runDir: string): string {
  return path.join(runDir, FILE);
}

export function appendCurve(runDir: string, point: CurvePoint): void {
  fs.appendFileSync(curvePath(runDir), `${JSON.stringify(point)}\n`);
}

export function readCurve(runDir: string): CurvePoint[] {
  let text: string;
  try {
    text = fs.readFileSync(curvePath(runDir), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const points: CurvePoint[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      points.push(JSON.parse(line) as CurvePoint);
    } catch {
      // A line torn by a kill mid-write: the steps after the last checkpoint are redone anyway.
    }
  }
  return points;
}

/** Keep the points up to `step` (inclusive): the state a checkpoint at `step` describes. */
export function truncateCurve(runDir: string, step: number): void {
  const kept = readCurve(runDir).filter((p) => p.step <= step);
  writeFileAtomic(curvePath(runDir), kept.map((p) => `${JSON.stringify(p)}\n`).join(''));
}

/** At most `maxPoints` points: every point when few, else the mean of consecutive buckets. */
export function downsampleCurve(points: CurvePoint[], maxPoints: number): CurvePoint[] {
  if (points.length <= maxPoints) return points;
  const out: CurvePoint[] = [];
  const size = points.length / maxPoints;
  for (let b = 0; b < maxPoints; b++) {
    const bucket = points.slice(Math.floor(b * size), Math.floor((b + 1) * size));
    if (!bucket.length) continue;
    const mean = (f: (p: CurvePoint) => number): number => bucket.reduce((a, p) => a + f(p), 0) / bucket.length;
    const last = bucket[bucket.length - 1]!;
    const terms: Record<string, number> = {};
    for (const key of Object.keys(last.terms)) terms[key] = mean((p) => p.terms[key] ?? 0);
    out.push({ step: last.step, loss: mean((p) => p.loss), terms, lr: last.lr, gradNorm: mean((p) => p.gradNorm), imagesPerSecond: mean((p) => p.imagesPerSecond), time: last.time });
  }
  return out;
}
