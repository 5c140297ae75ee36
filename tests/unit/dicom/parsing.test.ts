import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDicom, readDicomInfo, transferSyntaxName } from '../../../main/dicom';
import { expandSegmentedLut } from '../../../main/dicom/color';
import { jpegPrecision } from '../../../main/dicom/codecs/index';
import { labelJpegAsRgb } from '../../../main/dicom/codecs/jpeg-colorspace';
import { decodeRleFrame } from '../../../main/dicom/codecs/rle';
import { selectFrameIndices } from '../../../main/dicom/decode';
import { encapsulatedFrameBytes, mapFragments } from '../../../main/dicom/frames';
import { dicomParser } from '../../../main/dicom/dicom-parser-lib';
import { readTechnicalInfo } from '../../../main/dicom/info';
import { parseDicomBytes, sniffEncoding } from '../../../main/dicom/parse';
import { corpus, DICOM_ROOT } from '../../integration/dicom/corpus';

const read = (rel: string): Buffer => fs.readFileSync(path.join(DICOM_ROOT, rel));

/** Where the main dataset starts: the end of the file meta information. */
function datasetStart(bytes: Uint8Array): number {
  return (dicomParser.readPart10Header(bytes) as unknown as { position: number }).position;
}

/** The first compressed frame of a corpus file, as the decoder sees it. */
function firstFrame(rel: string): Uint8Array {
  const parsed = parseDicomBytes(read(rel), rel);
  const info = readTechnicalInfo(parsed);
  return encapsulatedFrameBytes(parsed, mapFragments(parsed, info, parsed.transferSyntax!.family), 0);
}

describe('transfer syntaxes', () => {
  it('names known, recognised-but-unsupported and unknown UIDs', () => {
    expect(transferSyntaxName('1.2.840.10008.1.2.4.70')).toMatch(/^JPEG Lossless/);
    expect(transferSyntaxName('1.2.840.10008.1.2.4.102')).toBe('MPEG-4 AVC/H.264 High Profile');
    expect(transferSyntaxName('1.2.3')).toBe('unknown');
  });

  it('the dataset encoding is recognised from the bytes alone for every corpus file', () => {
    for (const entry of [...corpus('ultrasound'), ...corpus('encodings')]) {
      if (entry.tsUid === '1.2.840.10008.1.2.1.99') continue; // deflated: bytes are compressed
      const bytes = fs.readFileSync(entry.fullPath);
      if (bytes.subarray(128, 132).toString('latin1') !== 'DICM') continue; // no meta header to skip
      const metaEnd = datasetStart(bytes);
      const expected = ['1.2.840.10008.1.2', '1.2.840.10008.1.2.2'].includes(entry.tsUid)
        ? entry.tsUid
        : '1.2.840.10008.1.2.1';
      expect(sniffEncoding(bytes, metaEnd)).toBe(expected);
    }
    expect(sniffEncoding(Buffer.from('%PDF-1.7\n%âãÏÓ\n1 0 obj\n<<>>\nendobj\n'), 0)).toBeNull();
  });

  it('reads a dataset without preamble or meta header (the encoding is guessed)', () => {
    const full = read('encodings/pydicom/MR_small_implicit.dcm');
    const bare = full.subarray(datasetStart(full));
    const image = openDicom(bare, 'bare.dcm');
    expect(image.info.transferSyntaxUid).toBe('1.2.840.10008.1.2');
    expect(image.info.rows).toBe(64);
  });
});

describe('technical info', () => {
  it('parses the Sequence of Ultrasound Regions and the cine timing', () => {
    const info = readDicomInfo(read('ultrasound/pydicom/examples_palette.dcm'), 'palette.dcm');
    expect(info.ultrasoundRegions).toHaveLength(2);
    expect(info.ultrasoundRegions[0]).toMatchObject({
      spatialFormat: 1,
      spatialFormatName: '2D',
      dataType: 1,
      dataTypeName: 'tissue',
      x0: 120,
      y0: 60,
      x1: 800,
      y1: 518,
      referencePixelX0: 340,
      referencePixelY0: 36,
      physicalUnitsXName: 'cm',
      physicalUnitsYName: 'cm',
    });
    expect(info.ultrasoundRegions[0].physicalDeltaX).toBeCloseTo(0.0262287876619699, 12);
    expect(info.ultrasoundRegions[1]).toMatchObject({
      spatialFormatName: 'waveform',
      dataTypeName: 'ECG trace',
      referencePixelX0: -176,
      physicalUnitsXName: 's',
    });

    // Implicit VR: the region values are read without VRs (US by length 2, signed 32-bit by length 4).
    const implicit = readDicomInfo(
      read('ultrasound/dicomParser/IM00001.implicit_little_endian.dcm'),
      'implicit.dcm',
    );
    expect(implicit.ultrasoundRegions[1]).toMatchObject({
      spatialFormatName: '2D',
      x1: 319,
      y1: 217,
      referencePixelX0: 183,
      referencePixelY0: -82,
    });
    expect(implicit.ultrasoundRegions[1].physicalDeltaX).toBeCloseTo(-0.2293750081863255, 12);

    const cine = readDicomInfo(read('ultrasound/pydicom/examples_ybr_color.dcm'), 'cine.dcm');
    expect(cine).toMatchObject({
      numberOfFrames: 30,
      frameTimeMs: 33.333,
      photometric: 'YBR_FULL_422',
      outputPhotometric: 'RGB',
      lossyCompression: true,
    });
  });
});

describe('codec helpers', () => {
  it('reads the JPEG sample precision from the frame header', () => {
    expect(jpegPrecision(firstFrame('ultrasound/pydicom/examples_ybr_color.dcm'))).toBe(8);
    expect(jpegPrecision(firstFrame('encodings/pydicom/JPEG-lossy.dcm'))).toBe(12);
    expect(jpegPrecision(firstFrame('ultrasound/pydicom-data/JPGLosslessP14SV1_1s_1f_8b.dcm'))).toBe(8);
  });

  it('relabels a JPEG as RGB by touching marker bytes only', () => {
    const jpeg = firstFrame('encodings/pydicom/SC_jpeg_no_color_transform.dcm');
    const relabelled = labelJpegAsRgb(jpeg);
    expect(relabelled.length).toBe(jpeg.length);
    let changed = 0;
    for (let i = 0; i < jpeg.length; i++) if (jpeg[i] !== relabelled[i]) changed++;
    expect(changed).toBeGreaterThan(0);
    expect(changed).toBeLessThanOrEqual(12);
    expect(labelJpegAsRgb(relabelled)).toEqual(relabelled); // idempotent
  });

  it('RLE: decodes a real frame and rejects truncated ones with a reason', () => {
    const frame = firstFrame('ultrasound/WG04/US1_RLE.dcm');
    const layout = { rows: 480, columns: 640, samplesPerPixel: 3, bitsAllocated: 8 };
    expect(decodeRleFrame(frame, layout)).toHaveLength(480 * 640 * 3);
    expect(() => decodeRleFrame(frame.subarray(0, frame.length - 100), layout)).toThrow(
      /truncated pixel data/,
    );
    expect(() => decodeRleFrame(frame, { ...layout, samplesPerPixel: 1 })).toThrow(/segments/);
  });

  it('expands segmented LUTs: discrete, linear and indirect segments (PS3.3 C.7.9.2)', () => {
    const words = [0, 3, 10, 20, 30, 1, 2, 50, 2, 2, 0, 0];
    // discrete 10,20,30; linear to 50 over 2 steps: 40,50; indirect replays segments 1-2: 10,20,30 then 30->50: 40,50
    expect(expandSegmentedLut(words)).toEqual([10, 20, 30, 40, 50, 10, 20, 30, 40, 50]);
    expect(() => expandSegmentedLut([7, 1, 0])).toThrow(/opcode 7/);
  });

  it('selects cine frames by stride, cap or explicit list', () => {
    expect(selectFrameIndices(10, { stride: 3 })).toEqual([0, 3, 6, 9]);
    expect(selectFrameIndices(10, { stride: 2, maxFrames: 2 })).toEqual([0, 2]);
    expect(selectFrameIndices(10, { frameIndices: [9, 2, 2, 40, -1] })).toEqual([9, 2]);
    expect(selectFrameIndices(1)).toEqual([0]);
  });
});
