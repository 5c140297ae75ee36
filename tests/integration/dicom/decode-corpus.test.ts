import { describe, expect, it } from 'vitest';
import { decodeDicom, DicomError, type DecodedDicom, type Raster } from '../../../main/dicom';
import { corpus, readCorpusFile, type CorpusEntry } from './corpus';
import { dcmtkAvailable, dcmtkDecode } from './dcmtk-reference';

const JPEG_EXTENDED = '1.2.840.10008.1.2.4.51';
const LOSSY = new Set([
  '1.2.840.10008.1.2.4.50',
  JPEG_EXTENDED,
  '1.2.840.10008.1.2.4.81',
  '1.2.840.10008.1.2.4.91',
  '1.2.840.10008.1.2.4.203',
]);

const decoded = new Map<string, Promise<DecodedDicom>>();
function decode(set: CorpusEntry['set'], file: string): Promise<DecodedDicom> {
  const key = `${set}/${file}`;
  let pending = decoded.get(key);
  if (!pending) {
    pending = decodeDicom(readCorpusFile(set, file), file);
    decoded.set(key, pending);
  }
  return pending;
}

function expectSamePixels(a: Raster, b: Raster): void {
  expect({ w: a.width, h: a.height, c: a.channels, d: a.bitDepth }).toEqual({
    w: b.width,
    h: b.height,
    c: b.channels,
    d: b.bitDepth,
  });
  expect(a.data.length).toBe(b.data.length);
  let differing = 0;
  for (let i = 0; i < a.data.length; i++) if (a.data[i] !== b.data[i]) differing++;
  expect(differing).toBe(0);
}

function meanAbsDiff(a: Raster, b: Raster): number {
  let sum = 0;
  for (let i = 0; i < a.data.length; i++) sum += Math.abs(a.data[i] - b.data[i]);
  return sum / a.data.length;
}

const decodable = [...corpus('ultrasound'), ...corpus('encodings')];

describe('every ultrasound and encodings corpus file decodes', () => {
  it.each(decodable.map((e) => [`${e.set}/${e.file}`, e] as const))('%s', async (_name, entry) => {
    const result = await decode(entry.set, entry.file);
    expect(result.info.transferSyntaxUid).toBe(entry.tsUid);
    expect(result.info.photometric).toBe(entry.photometric);
    expect(result.frames.map((f) => f.index)).toEqual(Array.from({ length: entry.frames }, (_, i) => i));
    for (const { raster } of result.frames) {
      expect(raster.width).toBe(result.info.columns);
      expect(raster.height).toBe(result.info.rows);
      expect(raster.data.length).toBe(raster.width * raster.height * raster.channels);
      const colour = entry.photometric !== 'MONOCHROME1' && entry.photometric !== 'MONOCHROME2';
      expect(raster.channels).toBe(colour ? 3 : 1);
      // A real image is never one flat value.
      let min = Infinity;
      let max = -Infinity;
      for (const v of raster.data) {
        if (v < min) min = v;
        if (v > max) max = v;
      }
      expect(max).toBeGreaterThan(min);
    }
  });

  it('decodes 12-bit JPEG Extended to 16-bit samples, exactly as dcmtk does (IJG libjpeg 12-bit)', async () => {
    const entry = corpus('encodings').find((e) => e.tsUid === JPEG_EXTENDED);
    expect(entry).toBeDefined();
    const result = await decode(entry!.set, entry!.file);
    const raster = result.frames[0].raster;
    expect(raster).toMatchObject({ width: 256, height: 1024, channels: 1, bitDepth: 16, signed: false });
    expect(raster.data).toBeInstanceOf(Uint16Array);
    // dcmtk (dcmdjpeg), GDCM and the independent PVRG decoder agree on these (pydicom's GDCM reference values).
    expect(raster.data[420 * 256 + 140]).toBe(244);
    expect(raster.data[230 * 256 + 120]).toBe(95);
    const reference = dcmtkDecode(entry!.fullPath, { jpegLs: false, monochromeBits: 12 });
    let differing = 0;
    for (let i = 0; i < raster.data.length; i++) if (raster.data[i] !== reference.frames[0][i]) differing++;
    expect(differing).toBe(0);
  });

  it('a corrupt 12-bit JPEG frame is a CODEC_FAILED error naming the file, and the next file still decodes', async () => {
    const entry = corpus('encodings').find((e) => e.tsUid === JPEG_EXTENDED)!;
    const bytes = Buffer.from(readCorpusFile('encodings', entry.file));
    // Zero the frame height in the SOF1 header (FF C1 len P Y...): libjpeg stops with an error.
    const sof = bytes.indexOf(Buffer.from([0xff, 0xc1, 0x00, 0x0b, 0x0c])); // SOF1, length 11, 12-bit
    expect(sof).toBeGreaterThan(0);
    bytes[sof + 5] = 0;
    bytes[sof + 6] = 0;
    const error = await decodeDicom(bytes, 'broken12.dcm').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DicomError);
    expect((error as DicomError).code).toBe('CODEC_FAILED');
    expect((error as DicomError).message).toMatch(/^broken12\.dcm: .*12-bit/);
    const again = await decodeDicom(readCorpusFile('encodings', entry.file), entry.file);
    expect(again.frames[0].raster.data[420 * 256 + 140]).toBe(244);
  });
});

describe('lossless encodings of one image decode to identical pixels', () => {
  const groups: Array<[string, Array<[CorpusEntry['set'], string]>]> = [
    [
      'US1',
      [
        ['ultrasound', 'pydicom-data/US1_UNCR.dcm'],
        ['ultrasound', 'WG04/US1_RLE.dcm'],
      ],
    ],
    [
      'OBXXXX1A',
      [
        ['ultrasound', 'pydicom-data/OBXXXX1A.dcm'],
        ['ultrasound', 'pydicom-data/OBXXXX1A_rle.dcm'],
        ['ultrasound', 'pydicom-data/OBXXXX1A_2frame.dcm'],
        ['ultrasound', 'pydicom-data/OBXXXX1A_rle_2frame.dcm'],
      ],
    ],
    [
      'MR_small',
      [
        ['encodings', 'pydicom/MR_small.dcm'],
        ['encodings', 'pydicom/MR_small_RLE.dcm'],
        ['encodings', 'pydicom/MR_small_bigendian.dcm'],
        ['encodings', 'pydicom/MR_small_implicit.dcm'],
        ['encodings', 'pydicom/MR_small_jp2klossless.dcm'],
        ['encodings', 'pydicom/MR_small_jpeg_ls_lossless.dcm'],
      ],
    ],
    [
      'SC_rgb',
      [
        ['encodings', 'pydicom-data/SC_rgb.dcm'],
        ['encodings', 'pydicom-data/SC_rgb_2frame.dcm'],
        ['encodings', 'pydicom/SC_rgb_rle.dcm'],
        ['encodings', 'pydicom/SC_rgb_rle_2frame.dcm'],
        ['encodings', 'pydicom/SC_rgb_jpeg_gdcm.dcm'],
        ['encodings', 'pydicom/SC_rgb_gdcm_KY.dcm'],
      ],
    ],
    [
      'colour planar/interleaved',
      [
        ['ultrasound', 'pydicom-data/color-pl.dcm'],
        ['ultrasound', 'pydicom-data/color-px.dcm'],
        ['ultrasound', 'gdcmData-via-dwv/gdcm-US-RGB-8-esopecho.dcm'],
      ],
    ],
    [
      'JPEG-LS interleave modes',
      [
        ['encodings', 'pydicom-data/JLSL_RGB_ILV0.dcm'],
        ['encodings', 'pydicom-data/JLSL_RGB_ILV1.dcm'],
        ['encodings', 'pydicom-data/JLSL_RGB_ILV2.dcm'],
      ],
    ],
  ];
  it.each(groups)('%s', async (_name, members) => {
    const results = await Promise.all(members.map(([set, file]) => decode(set, file)));
    const [first, ...rest] = results;
    for (const other of rest) expectSamePixels(other.frames[0].raster, first.frames[0].raster);
    // Multi-frame variants (the second frame differs from the first) must agree frame by frame.
    const multi = results.filter((r) => r.frames.length > 1);
    for (const other of multi.slice(1)) {
      expect(other.frames.length).toBe(multi[0].frames.length);
      other.frames.forEach((frame, i) => expectSamePixels(frame.raster, multi[0].frames[i].raster));
    }
  });

  it('lossy JPEG 2000 (YBR_ICT) stays within a few grey levels of the uncompressed original', async () => {
    const [original, j2k] = await Promise.all([
      decode('ultrasound', 'pydicom-data/US1_UNCR.dcm'),
      decode('ultrasound', 'pydicom-data/US1_J2KI.dcm'),
    ]);
    expect(j2k.frames[0].raster.channels).toBe(3);
    expect(meanAbsDiff(j2k.frames[0].raster, original.frames[0].raster)).toBeLessThan(2);
  });
});

describe('pixels match dcmtk (dcmj2pnm / dcml2pnm)', () => {
  it('dcmtk is installed', () => {
    expect(dcmtkAvailable()).toBe(true);
  });
  const compared = decodable.filter((e) => e.dcmtkTool !== null);
  it.each(compared.map((e) => [`${e.set}/${e.file}`, e] as const))('%s', async (_name, entry) => {
    const result = await decode(entry.set, entry.file);
    const mono = result.info.outputPhotometric === 'MONOCHROME2';
    const reference = dcmtkDecode(entry.fullPath, {
      jpegLs: entry.dcmtkTool === 'dcml2pnm',
      monochromeBits: mono ? result.info.bitsStored : null,
    });
    expect(reference.frames.length).toBe(result.frames.length);
    // dcmtk writes signed values shifted to unsigned.
    const shift = mono && result.info.pixelRepresentation === 1 ? 2 ** (result.info.bitsStored - 1) : 0;
    let sum = 0;
    let count = 0;
    let maxDiff = 0;
    result.frames.forEach((frame, f) => {
      const ours = frame.raster.data;
      const theirs = reference.frames[f];
      expect(ours.length).toBe(theirs.length);
      for (let i = 0; i < ours.length; i++) {
        const d = Math.abs(ours[i] + shift - theirs[i]);
        sum += d;
        if (d > maxDiff) maxDiff = d;
      }
      count += ours.length;
    });
    if (LOSSY.has(entry.tsUid)) expect(sum / count).toBeLessThan(1);
    else expect(maxDiff).toBe(0);
  });
});
