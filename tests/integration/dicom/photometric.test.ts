import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeDicom } from '../../../main/dicom';
import { DICOM_ROOT } from './corpus';
import { dcmtkDecode } from './dcmtk-reference';

/** Variants of corpus files made with dcmtk's dcmodify in a temporary folder (the corpus has none). */
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dicom-photometric-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function variant(source: string, name: string, edits: string[]): string {
  const target = path.join(tmp, name);
  fs.copyFileSync(path.join(DICOM_ROOT, source), target);
  execFileSync('dcmodify', ['-nb', '-q', ...edits, target]);
  return target;
}

const hexWords = (values: number[]): string => values.map((v) => v.toString(16).padStart(4, '0')).join('\\');

describe('MONOCHROME1', () => {
  // dcmtk is no reference here: it inverts signed data as 32768 - v (one off the stored range) and leaves
  // JPEG-compressed MONOCHROME1 uninverted, so the expected values are the definition itself.
  it('is inverted to MONOCHROME2 semantics: signed v -> -1 - v', async () => {
    const original = await decodeDicom(
      fs.readFileSync(path.join(DICOM_ROOT, 'encodings/pydicom/MR_small.dcm')),
      'MR_small.dcm',
    );
    const file = variant('encodings/pydicom/MR_small.dcm', 'mono1.dcm', ['-m', '(0028,0004)=MONOCHROME1']);
    const inverted = await decodeDicom(fs.readFileSync(file), 'mono1.dcm');
    expect(inverted.info.photometric).toBe('MONOCHROME1');
    expect(inverted.info.outputPhotometric).toBe('MONOCHROME2');
    const a = original.frames[0].raster.data;
    const b = inverted.frames[0].raster.data;
    expect(inverted.frames[0].raster.signed).toBe(true);
    let mismatches = 0;
    for (let i = 0; i < a.length; i++) if (b[i] !== -1 - a[i]) mismatches++;
    expect(mismatches).toBe(0);
  });

  it('unsigned 8-bit: v -> 255 - v', async () => {
    const source = 'ultrasound/pydicom-data/JPGLosslessP14SV1_1s_1f_8b.dcm';
    const original = await decodeDicom(fs.readFileSync(path.join(DICOM_ROOT, source)), 'a.dcm');
    const file = variant(source, 'mono1-8.dcm', ['-m', '(0028,0004)=MONOCHROME1']);
    const inverted = await decodeDicom(fs.readFileSync(file), 'mono1-8.dcm');
    const a = original.frames[0].raster.data;
    const b = inverted.frames[0].raster.data;
    expect(b).toBeInstanceOf(Uint8Array);
    let mismatches = 0;
    for (let i = 0; i < a.length; i++) if (b[i] !== 255 - a[i]) mismatches++;
    expect(mismatches).toBe(0);
  });
});

describe('segmented palette colour LUTs', () => {
  // Red: 0 then a linear ramp to 0xFF00; green: the reverse ramp; blue: two discrete entries, a linear
  // segment, then an indirect segment replaying the first two segments (256 entries each).
  const redSegments = [0, 1, 0x0000, 1, 255, 0xff00];
  const greenSegments = [0, 1, 0xff00, 1, 255, 0x0000];
  const blueSegments = [0, 2, 0x0000, 0x8000, 1, 126, 0xff00, 2, 2, 0, 0];
  const ramp = (from: number, to: number, steps: number): number[] =>
    Array.from({ length: steps }, (_, i) => Math.round(from + ((to - from) * (i + 1)) / steps));
  const red = [0, ...ramp(0, 0xff00, 255)];
  const green = [0xff00, ...ramp(0xff00, 0, 255)];
  const blueHalf = [0, 0x8000, ...ramp(0x8000, 0xff00, 126)];
  const blue = [...blueHalf, 0, 0x8000, ...ramp(0x8000, 0xff00, 126)];

  it('decode exactly like the same tables written out in full, which dcmtk agrees with', async () => {
    const source = 'ultrasound/pydicom-data/OBXXXX1A.dcm';
    const remove = ['-e', '(0028,1201)', '-e', '(0028,1202)', '-e', '(0028,1203)'];
    const segmented = variant(source, 'segmented.dcm', [
      ...remove,
      '-i',
      `(0028,1221)=${hexWords(redSegments)}`,
      '-i',
      `(0028,1222)=${hexWords(greenSegments)}`,
      '-i',
      `(0028,1223)=${hexWords(blueSegments)}`,
    ]);
    const plain = variant(source, 'plain.dcm', [
      '-m',
      `(0028,1201)=${hexWords(red)}`,
      '-m',
      `(0028,1202)=${hexWords(green)}`,
      '-m',
      `(0028,1203)=${hexWords(blue)}`,
    ]);
    const fromSegments = await decodeDicom(fs.readFileSync(segmented), 'segmented.dcm');
    const fromPlain = await decodeDicom(fs.readFileSync(plain), 'plain.dcm');
    expect(fromSegments.frames[0].raster.channels).toBe(3);
    expect(
      Buffer.from(fromSegments.frames[0].raster.data.buffer).equals(
        Buffer.from(fromPlain.frames[0].raster.data.buffer),
      ),
    ).toBe(true);
    const reference = dcmtkDecode(plain, { jpegLs: false, monochromeBits: null });
    const ours = fromPlain.frames[0].raster.data;
    let mismatches = 0;
    for (let i = 0; i < ours.length; i++) if (ours[i] !== reference.frames[0][i]) mismatches++;
    expect(mismatches).toBe(0);
  });
});
