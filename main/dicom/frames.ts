import { dicomParser, type Element } from './dicom-parser-lib';
import { DicomError } from './errors';
import type { ParsedDicom } from './parse';
import type { CodecFamily } from './transfer-syntax';
import type { DicomTechnicalInfo } from './types';

/** Bytes one native (uncompressed) frame occupies. */
export function nativeFrameLength(info: DicomTechnicalInfo): number {
  const pixels = info.rows * info.columns;
  if (info.bitsAllocated === 1) return Math.ceil((pixels * info.samplesPerPixel) / 8);
  // YBR_*_422 stores two samples per pixel on average (Y1 Y2 Cb Cr per pixel pair).
  const samples = /_422$/.test(info.photometric)
    ? Math.ceil(info.columns / 2) * 4 * info.rows
    : pixels * info.samplesPerPixel;
  return samples * (info.bitsAllocated / 8);
}

function pixelElement(parsed: ParsedDicom): Element {
  const element = parsed.dataSet.elements.x7fe00010;
  if (!element) throw new DicomError('NO_PIXEL_DATA', parsed.file, 'no pixel data (7FE0,0010) in this file');
  return element;
}

/**
 * The bytes of native frame `index` (a view into the file, not a copy). 1-bit frames that start inside a
 * byte are returned from their first byte along with the bit offset.
 */
export function nativeFrameBytes(
  parsed: ParsedDicom,
  info: DicomTechnicalInfo,
  index: number,
): { bytes: Uint8Array; bitOffset: number } {
  const element = pixelElement(parsed);
  if (element.encapsulatedPixelData) {
    throw new DicomError(
      'MALFORMED',
      parsed.file,
      'pixel data is encapsulated but the transfer syntax is uncompressed',
    );
  }
  const available = Math.max(0, Math.min(element.length, parsed.bytes.length - element.dataOffset));
  if (info.bitsAllocated === 1) {
    const bitsPerFrame = info.rows * info.columns * info.samplesPerPixel;
    const firstBit = index * bitsPerFrame;
    const start = Math.floor(firstBit / 8);
    const end = Math.ceil((firstBit + bitsPerFrame) / 8);
    if (end > available) throw truncated(parsed.file, end, available, index);
    return {
      bytes: parsed.bytes.subarray(element.dataOffset + start, element.dataOffset + end),
      bitOffset: firstBit % 8,
    };
  }
  const frameLength = nativeFrameLength(info);
  const start = index * frameLength;
  if (start + frameLength > available) throw truncated(parsed.file, start + frameLength, available, index);
  return {
    bytes: parsed.bytes.subarray(element.dataOffset + start, element.dataOffset + start + frameLength),
    bitOffset: 0,
  };
}

function truncated(file: string, needed: number, available: number, index: number): DicomError {
  return new DicomError(
    'TRUNCATED',
    file,
    `truncated pixel data: frame ${index + 1} needs ${needed} bytes of pixel data, the file holds ${available}`,
  );
}

/** Which fragments make up each frame of encapsulated pixel data. */
export interface FragmentMap {
  /** For frame i: [first fragment index, fragment count]. */
  frames: Array<[number, number]>;
}

function startsFrame(family: CodecFamily, bytes: Uint8Array, position: number, length: number): boolean {
  if (length < 4) return false;
  const b0 = bytes[position];
  const b1 = bytes[position + 1];
  switch (family) {
    case 'jpeg-baseline':
    case 'jpeg-extended':
    case 'jpeg-lossless':
    case 'jpeg-ls':
      return b0 === 0xff && b1 === 0xd8;
    case 'jpeg2000':
    case 'htj2k':
      // A raw codestream starts with SOC (FF4F); a JP2 file with its signature box.
      return (
        (b0 === 0xff && b1 === 0x4f) ||
        (b0 === 0x00 && b1 === 0x00 && bytes[position + 2] === 0x00 && bytes[position + 3] === 0x0c)
      );
    case 'rle': {
      // RLE header: segment count 1..15, first offset 64.
      if (length < 8) return false;
      const count =
        bytes[position] |
        (bytes[position + 1] << 8) |
        (bytes[position + 2] << 16) |
        (bytes[position + 3] << 24);
      const first = bytes[position + 4] | (bytes[position + 5] << 8);
      return count >= 1 && count <= 15 && first === 64;
    }
    default:
      return false;
  }
}

/**
 * Map frames to fragments: the Basic Offset Table when it has one entry per frame, one fragment per frame
 * when the counts match, otherwise group fragments at each codec start marker (a frame split into several
 * fragments without an offset table).
 */
export function mapFragments(
  parsed: ParsedDicom,
  info: DicomTechnicalInfo,
  family: CodecFamily,
): FragmentMap {
  const { file } = parsed;
  const element = pixelElement(parsed);
  if (!element.encapsulatedPixelData) {
    throw new DicomError(
      'MALFORMED',
      file,
      'compressed transfer syntax but the pixel data is not encapsulated',
    );
  }
  const fragments = element.fragments ?? [];
  if (fragments.length === 0) {
    throw new DicomError(
      parsed.parseError ? 'TRUNCATED' : 'MALFORMED',
      file,
      'truncated pixel data: encapsulated pixel data has no fragments',
    );
  }
  for (let i = 0; i < fragments.length; i++) {
    const f = fragments[i];
    if (f.position + f.length > parsed.bytes.length || f.length < 0) {
      throw new DicomError(
        'TRUNCATED',
        file,
        `truncated pixel data: fragment ${i + 1} of ${fragments.length} ends beyond the end of the file`,
      );
    }
  }
  const frameCount = info.numberOfFrames;
  const bot = element.basicOffsetTable ?? [];
  if (bot.length === frameCount && bot.length > 0) {
    const frames: Array<[number, number]> = [];
    for (let i = 0; i < frameCount; i++) {
      const first = fragments.findIndex((f) => f.offset === bot[i]);
      const next =
        i + 1 < frameCount ? fragments.findIndex((f) => f.offset === bot[i + 1]) : fragments.length;
      if (first < 0 || next < 0 || next <= first) {
        throw new DicomError(
          'MALFORMED',
          file,
          `basic offset table entry ${i + 1} points at no fragment start`,
        );
      }
      frames.push([first, next - first]);
    }
    return { frames };
  }
  if (frameCount === 1) return { frames: [[0, fragments.length]] };
  if (fragments.length === frameCount) return { frames: fragments.map((_, i) => [i, 1] as [number, number]) };

  // JPEG: dicom-parser finds frame ends by their EOI marker; when that marker was split across two
  // fragments it miscounts, so fall back to the rule that every frame starts a fragment with its
  // codec's start marker (SOI, SOC, RLE header).
  let starts: number[] = [];
  if (family.startsWith('jpeg') && family !== 'jpeg2000') {
    try {
      const table = dicomParser.createJPEGBasicOffsetTable(parsed.dataSet, element, fragments);
      starts = table.map((offset) => fragments.findIndex((f) => f.offset === offset)).filter((i) => i >= 0);
    } catch {
      starts = [];
    }
  }
  if (starts.length !== frameCount) {
    starts = [];
    fragments.forEach((f, i) => {
      if (startsFrame(family, parsed.bytes, f.position, f.length)) starts.push(i);
    });
  }
  if (starts.length !== frameCount || starts[0] !== 0) {
    throw new DicomError(
      'MALFORMED',
      file,
      `cannot tell which of the ${fragments.length} fragments belong to which of the ${frameCount} frames (no basic offset table)`,
    );
  }
  return {
    frames: starts.map((first, i) => [
      first,
      (i + 1 < starts.length ? starts[i + 1] : fragments.length) - first,
    ]),
  };
}

/** The compressed bytes of frame `index` (a view when it is one fragment, a copy when several). */
export function encapsulatedFrameBytes(parsed: ParsedDicom, map: FragmentMap, index: number): Uint8Array {
  const element = pixelElement(parsed);
  const fragments = element.fragments ?? [];
  const [first, count] = map.frames[index];
  if (count === 1) {
    const f = fragments[first];
    return parsed.bytes.subarray(f.position, f.position + f.length);
  }
  let total = 0;
  for (let i = first; i < first + count; i++) total += fragments[i].length;
  const out = new Uint8Array(total);
  let offset = 0;
  for (let i = first; i < first + count; i++) {
    const f = fragments[i];
    out.set(parsed.bytes.subarray(f.position, f.position + f.length), offset);
    offset += f.length;
  }
  return out;
}
