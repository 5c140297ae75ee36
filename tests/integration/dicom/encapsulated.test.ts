import { describe, expect, it } from 'vitest';
import { decodeDicom, DicomError } from '../../../main/dicom';
import { parseDicomBytes } from '../../../main/dicom/parse';
import { readCorpusFile } from './corpus';

/**
 * Re-encapsulate a corpus file's pixel data with every frame split over several fragments, with or
 * without a Basic Offset Table (PS3.5 A.4). The corpus has one fragment per frame only, while PACS
 * and some ultrasound systems split frames.
 */
function refragment(bytes: Buffer, pieces: number, withOffsetTable: boolean): Buffer {
  const parsed = parseDicomBytes(bytes, 'source');
  const element = parsed.dataSet.elements.x7fe00010;
  const fragments = element.fragments ?? [];
  const bot = element.basicOffsetTable ?? [];
  expect(fragments.length).toBeGreaterThan(0);
  // Items start after the element header (tag, VR, reserved, undefined length = 12 bytes).
  const itemsStart = element.dataOffset;
  const item = (data: Uint8Array): Buffer => {
    const header = Buffer.alloc(8);
    header.writeUInt16LE(0xfffe, 0);
    header.writeUInt16LE(0xe000, 2);
    header.writeUInt32LE(data.length, 4);
    return Buffer.concat([header, data]);
  };
  // One frame per original fragment (the sources used here have one fragment per frame).
  const frames = fragments.map((f) => bytes.subarray(f.position, f.position + f.length));
  const frameItems: Buffer[][] = frames.map((frame) => {
    const out: Buffer[] = [];
    const step = Math.max(2, Math.floor(frame.length / pieces / 2) * 2); // even fragment lengths
    for (let start = 0; start < frame.length; start += step) {
      out.push(item(frame.subarray(start, Math.min(frame.length, start + step))));
    }
    return out;
  });
  const offsets: number[] = [];
  let offset = 0;
  for (const items of frameItems) {
    offsets.push(offset);
    for (const i of items) offset += i.length;
  }
  const table = Buffer.alloc(withOffsetTable ? offsets.length * 4 : 0);
  if (withOffsetTable) offsets.forEach((o, i) => table.writeUInt32LE(o, i * 4));
  expect(bot.length === 0 || bot.length === frames.length).toBe(true);
  const delimiter = Buffer.from([0xfe, 0xff, 0xdd, 0xe0, 0, 0, 0, 0]);
  return Buffer.concat([bytes.subarray(0, itemsStart), item(table), ...frameItems.flat(), delimiter]);
}

async function expectSameFrames(original: Buffer, rebuilt: Buffer): Promise<void> {
  const a = await decodeDicom(original, 'original');
  const b = await decodeDicom(rebuilt, 'rebuilt');
  expect(b.frames.length).toBe(a.frames.length);
  a.frames.forEach((frame, i) => {
    expect(Buffer.from(b.frames[i].raster.data.buffer).equals(Buffer.from(frame.raster.data.buffer))).toBe(
      true,
    );
  });
}

describe('encapsulated pixel data with frames split over several fragments', () => {
  const cine = readCorpusFile('ultrasound', 'pydicom/examples_ybr_color.dcm'); // 30 JPEG frames
  const rle = readCorpusFile('ultrasound', 'gdcmData-via-octave-dicom/US-PAL-8-10x-echo.dcm'); // 10 RLE frames
  const j2k = readCorpusFile('encodings', 'pydicom/MR_small_jp2klossless.dcm');

  it('JPEG cine, three fragments per frame, with a basic offset table', async () => {
    await expectSameFrames(cine, refragment(cine, 3, true));
  });

  it('JPEG cine, three fragments per frame, no offset table (createJPEGBasicOffsetTable)', async () => {
    await expectSameFrames(cine, refragment(cine, 3, false));
  });

  it('RLE cine, two fragments per frame, no offset table (frames found by their RLE headers)', async () => {
    await expectSameFrames(rle, refragment(rle, 2, false));
  });

  it('single-frame JPEG 2000 in four fragments, no offset table', async () => {
    await expectSameFrames(j2k, refragment(j2k, 4, false));
  });

  it('a multi-frame file whose fragments cannot be told apart is refused with a reason', async () => {
    // Strip the JPEG start markers of frames 2..: no way left to find frame boundaries.
    const broken = refragment(cine, 3, false);
    const parsed = parseDicomBytes(broken, 'x');
    const fragments = parsed.dataSet.elements.x7fe00010.fragments ?? [];
    for (const f of fragments.slice(1)) {
      if (broken[f.position] === 0xff && broken[f.position + 1] === 0xd8) broken[f.position + 1] = 0x00;
    }
    const error = await decodeDicom(broken, 'cine.dcm').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DicomError);
    expect((error as DicomError).message).toMatch(/^cine\.dcm: /);
  });
});
