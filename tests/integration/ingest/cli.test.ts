import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeDicom } from '../../../main/dicom';
import { readPng } from '../../../main/ingest/image-read';
import { repoRoot, tempDir } from '../../helpers/temp';
import { runCliCaptured, type CliRun } from '../../helpers/cli';
import { DICOM } from './helpers';

let dataDir: string;
let out: string;
let cleanup: () => void;
let cleanupOut: () => void;

const cli = (...args: string[]): Promise<CliRun> => runCliCaptured([...args, '--data-dir', dataDir]);

const result = (stdout: string): Record<string, unknown> => {
  const lines = stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  return lines.find((l) => l.type === 'result')!;
};

beforeAll(() => {
  ({ dir: dataDir, cleanup } = tempDir('usfm-cli-ingest-'));
  ({ dir: out, cleanup: cleanupOut } = tempDir('usfm-cli-out-'));
});
afterAll(() => {
  cleanup();
  cleanupOut();
});

describe('usfm import / items / export-image / cone / split / datasets / labels', () => {
  it('imports folders with progress as JSON lines and a summary naming broken files and causes', async () => {
    const loops = path.join(DICOM, 'ultrasound', 'pydicom');
    const broken = path.join(DICOM, 'broken', 'pydicom', 'MR_truncated.dcm');
    const r = await cli('import', path.join(repoRoot, 'resources', 'samples'), loops, broken, '--dataset', 'cli set', '--stride', '2', '--organ', 'Breast', '--json');
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; step?: number });
    expect(lines[0]!.type).toBe('job');
    expect(lines.some((l) => l.type === 'progress')).toBe(true);
    const s = result(r.stdout) as { items: number; frames: number; errors: number; errorList: { file: string; code: string; cause: string }[]; dataset: { name: string } };
    // 12 BUSI images; pydicom/: 4 files, the 30-frame loop at stride 2 gives 15 frames.
    expect(s.items).toBe(12 + 3 + 15);
    expect(s.errors).toBe(1);
    expect(s.errorList[0]).toMatchObject({ file: 'MR_truncated.dcm', code: 'TRUNCATED' });
    expect(s.errorList[0]!.cause).toMatch(/truncated/);

    const human = await cli('import', path.join(repoRoot, 'resources', 'samples'), '--dataset', 'cli set');
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/0 item\(s\) from 0 file\(s\)/);
    expect(human.stdout).toMatch(/unchanged:\s+12 file/);
  });

  it('lists items with filters, as JSON pages', async () => {
    const r = await cli('items', '--dataset', 'cli set', '--class', 'malignant', '--json');
    expect(r.code).toBe(0);
    const page = result(r.stdout) as { items: { id: number; classLabel: string; organ: string; hasMask: boolean; relPath: string }[]; total: number };
    expect(page.total).toBe(4);
    for (const i of page.items) expect(i).toMatchObject({ classLabel: 'malignant', organ: 'breast', hasMask: true });
    const all = await cli('items', '--dataset', 'cli set', '--limit', '7', '--all');
    expect(all.code).toBe(0);
    expect(all.stdout.trim().split('\n').length).toBe(1 + 30);
    expect(all.stdout).toMatch(/examples_ybr_color\.dcm#28/);
  });

  it('exports a decoded frame exactly as stored (RGB 8-bit from a JPEG cine loop; grey from BUSI)', async () => {
    const list = result((await cli('items', '--dataset', 'cli set', '--path', 'examples_ybr_color', '--json')).stdout) as { items: { id: number; frameIndex: number }[] };
    const frame6 = list.items.find((i) => i.frameIndex === 6)!;
    const file = path.join(out, 'frame6.png');
    const r = await cli('export-image', String(frame6.id), '--out', file, '--json');
    expect(r.code).toBe(0);
    const png = readPng(fs.readFileSync(file));
    const decoded = await decodeDicom(fs.readFileSync(path.join(DICOM, 'ultrasound', 'pydicom', 'examples_ybr_color.dcm')), 'x', { frameIndices: [6] });
    const ref = decoded.frames[0]!.raster;
    expect([png.width, png.height, png.channels, png.bitDepth]).toEqual([ref.width, ref.height, 3, 8]);
    expect(Buffer.from(png.data as Uint8Array).equals(Buffer.from(ref.data as Uint8Array))).toBe(true);

    const busi = result((await cli('items', '--dataset', 'cli set', '--path', 'benign (20)', '--json')).stdout) as { items: { id: number }[] };
    const grey = path.join(out, 'benign20.png');
    expect((await cli('export-image', String(busi.items[0]!.id), '--out', grey)).code).toBe(0);
    const g = readPng(fs.readFileSync(grey));
    const original = readPng(fs.readFileSync(path.join(repoRoot, 'resources', 'samples', 'benign', 'benign (20).png')));
    expect(g.channels).toBe(1);
    expect(Buffer.from(g.data as Uint8Array).equals(Buffer.from(original.data as Uint8Array))).toBe(true);

    const blanked = path.join(out, 'blanked.png');
    expect((await cli('export-image', String(frame6.id), '--out', blanked, '--blank-outside-cone')).code).toBe(0);
    const b = readPng(fs.readFileSync(blanked));
    // The burned-in text of the SonoSite screen (top-left "PLA" label) is gone.
    let textBefore = 0;
    let textAfter = 0;
    for (let y = 0; y < 20; y++) for (let x = 0; x < 40; x++) {
      const i = (y * b.width + x) * 3;
      textBefore += ref.data[i]! > 100 ? 1 : 0;
      textAfter += b.data[i]! > 100 ? 1 : 0;
    }
    expect(textBefore).toBeGreaterThan(20);
    expect(textAfter).toBe(0);
    expect((await cli('export-image', '999999', '--out', path.join(out, 'x.png'))).code).toBe(1);
    expect((await cli('export-image', 'abc', '--out', path.join(out, 'x.png'))).code).toBe(2);
  });

  it('shows and corrects cones', async () => {
    const list = result((await cli('items', '--dataset', 'cli set', '--path', 'examples_ybr_color', '--json')).stdout) as { items: { id: number }[] };
    const id = String(list.items[0]!.id);
    const shown = result((await cli('cone', id, '--json', '--out', path.join(out, 'cone.png'))).stdout) as { auto: { geometry: { shape: string }; method: string } };
    expect(shown.auto.geometry.shape).toBe('sector');
    expect(shown.auto.method).toBe('cine-variance');
    expect(readPng(fs.readFileSync(path.join(out, 'cone.png'))).width).toBe(320);
    const set = await cli('cone', id, '--set', '{"shape":"rectangle","x0":10,"y0":10,"x1":300,"y1":200}', '--json');
    expect(result(set.stdout)).toMatchObject({ updated: 15 });
    expect((await cli('cone', id, '--set', '{"shape":"circle"}')).code).toBe(2);
    expect(result((await cli('cone', id, '--reset', '--json')).stdout)).toMatchObject({ reset: 15 });
  });

  it('splits, lists datasets, edits labels', async () => {
    const split = await cli('split', '--dataset', 'cli set', '--seed', '3', '--test', '0.25', '--val', '0.1', '--json');
    expect(split.code).toBe(0);
    const s = result(split.stdout) as { split: { counts: Record<string, { items: number }>; stratify: string } };
    expect(s.split.counts.train!.items + s.split.counts.val!.items + s.split.counts.test!.items).toBe(30);
    expect(s.split.stratify).toBe('class_label');
    const ds = result((await cli('datasets', '--json')).stdout) as { datasets: { name: string; items: number; errors: number }[] };
    expect(ds.datasets).toEqual([expect.objectContaining({ name: 'cli set', items: 30, errors: 1 })]);
    const errors = await cli('datasets', 'errors', 'cli set');
    expect(errors.stdout).toMatch(/MR_truncated\.dcm: truncated pixel data/);
    expect((await cli('labels', 'add', 'Shoulder')).code).toBe(0);
    const assign = await cli('labels', 'assign', '--dataset', 'cli set', '--where-class', 'normal', '--organ', 'shoulder', '--json');
    expect(result(assign.stdout)).toMatchObject({ updated: 4 });
    const listed = result((await cli('labels', '--json')).stdout) as { organs: { id: string; items: number }[] };
    expect(listed.organs.find((o) => o.id === 'shoulder')?.items).toBe(4);
    expect((await cli('split', '--dataset', 'nope', '--seed', '1')).code).toBe(1);
    expect((await cli('split', '--dataset', 'cli set')).code).toBe(2);
  });
});
