import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scanPaths } from '../../../main/ingest/scan';
import { repoRoot, sharedDir, tempDir } from '../../helpers/temp';

const samples = path.join(repoRoot, 'resources', 'samples');
const images = path.join(repoRoot, 'tests', 'fixtures', 'images');
const dicom = path.join(sharedDir, 'data', 'dicom', 'ultrasound');
let root: string;
let cleanup: () => void;

function put(rel: string, from: string): void {
  const to = path.join(root, rel);
  fs.mkdirSync(path.dirname(to), { recursive: true });
  fs.copyFileSync(from, to);
}

beforeAll(() => {
  ({ dir: root, cleanup } = tempDir('usfm-scan-'));
  // TN3K: <split>-image with <split>-mask, masks matched by stem (JPEG masks for JPEG images).
  put('tn3k/trainval-image/0001.jpg', path.join(images, 'grey8.jpg'));
  put('tn3k/trainval-mask/0001.jpg', path.join(images, 'mask.jpg'));
  put('tn3k/test-image/0002.jpg', path.join(images, 'rgb8.jpg'));
  put('tn3k/test-mask/0002.jpg', path.join(images, 'mask.jpg'));
  // Class folders with BUSI masks (one with a second lesion).
  put('busi/benign/benign (4).png', path.join(samples, 'benign', 'benign (4).png'));
  put('busi/benign/benign (4)_mask.png', path.join(samples, 'benign', 'benign (4)_mask.png'));
  put('busi/benign/benign (4)_mask_1.png', path.join(samples, 'benign', 'benign (4)_mask_1.png'));
  put('busi/normal/normal (1).png', path.join(samples, 'normal', 'normal (1).png'));
  put('busi/normal/normal (1)_mask.png', path.join(samples, 'normal', 'normal (1)_mask.png'));
  // A flat folder: DICOM with and without extension, a PNG, and files that are not images.
  put('flat/US1_UNCR.dcm', path.join(dicom, 'pydicom-data', 'US1_UNCR.dcm'));
  put('flat/IM0001', path.join(dicom, 'pydicom-data', 'color-px.dcm'));
  put('flat/scan.png', path.join(images, 'grey8.png'));
  fs.writeFileSync(path.join(root, 'flat', 'report.txt'), 'not an image');
  fs.writeFileSync(path.join(root, 'flat', 'NOTES'), 'no extension, not DICOM');
  put('flat/.hidden.png', path.join(images, 'grey8.png'));
});

afterAll(() => cleanup());

describe('folder scanning', () => {
  it('finds TN3K pairs with their split, BUSI masks with their class, and DICOM by content', () => {
    const scan = scanPaths([root]);
    const byRel = new Map(scan.entries.map((e) => [e.relPath.replace(/^[^/]+\//, ''), e]));
    expect([...byRel.keys()].sort()).toEqual(
      ['busi/benign/benign (4).png', 'busi/normal/normal (1).png', 'flat/IM0001', 'flat/US1_UNCR.dcm', 'flat/scan.png', 'tn3k/test-image/0002.jpg', 'tn3k/trainval-image/0001.jpg'].sort(),
    );
    const tn = byRel.get('tn3k/trainval-image/0001.jpg')!;
    expect(tn.folderSplit).toBe('trainval');
    expect(tn.classLabel).toBeNull();
    expect(tn.maskPaths.map((p) => path.relative(root, p))).toEqual([path.join('tn3k', 'trainval-mask', '0001.jpg')]);
    expect(byRel.get('tn3k/test-image/0002.jpg')!.folderSplit).toBe('test');
    const benign = byRel.get('busi/benign/benign (4).png')!;
    expect(benign.classLabel).toBe('benign');
    expect(benign.maskPaths.map((p) => path.basename(p))).toEqual(['benign (4)_mask.png', 'benign (4)_mask_1.png']);
    expect(byRel.get('busi/normal/normal (1).png')!.classLabel).toBe('normal');
    expect(byRel.get('flat/IM0001')!.kind).toBe('dicom');
    expect(byRel.get('flat/US1_UNCR.dcm')!.kind).toBe('dicom');
    expect(byRel.get('flat/scan.png')!.classLabel).toBeNull();
    expect(scan.skipped).toBe(2);
    expect(scan.layouts).toEqual(['busi-masks', 'class-folders', 'flat', 'tn3k']);
  });

  it('names files relative to the folder given, never absolutely, in a stable order', () => {
    const a = scanPaths([path.join(root, 'busi')]);
    expect(a.entries.map((e) => e.relPath)).toEqual(['busi/benign/benign (4).png', 'busi/normal/normal (1).png']);
    expect(scanPaths([path.join(root, 'busi')]).entries).toEqual(a.entries);
  });

  it('takes sibling folders given on the command line as classes, and single files as they are', () => {
    const scan = scanPaths([path.join(root, 'busi', 'benign'), path.join(root, 'busi', 'normal'), path.join(root, 'flat', 'scan.png'), path.join(root, 'nope')]);
    expect(scan.entries.map((e) => [e.relPath, e.classLabel])).toEqual([
      ['benign/benign (4).png', 'benign'],
      ['normal/normal (1).png', 'normal'],
      ['scan.png', null],
    ]);
    expect(scan.missing).toEqual([path.join(root, 'nope')]);
  });
});
