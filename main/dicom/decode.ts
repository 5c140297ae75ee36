import {
  applyPalette,
  expand422,
  invertMonochrome1,
  normaliseStoredBits,
  planarToInterleaved,
  ybrFull422ToRgb,
  ybrFullToRgb,
  ybrPartialToRgb,
} from './color';
import { CodecError, decodeCompressedFrame, type CodecOutput, type FrameLayout } from './codecs/index';
import { deidentifyDataSet } from './deidentify';
import { DicomError, asDicomError } from './errors';
import { encapsulatedFrameBytes, mapFragments, nativeFrameBytes, type FragmentMap } from './frames';
import { readTechnicalInfo } from './info';
import { readPalette } from './palette';
import { parseDicomBytes, type ParsedDicom } from './parse';
import { transferSyntaxName } from './transfer-syntax';
import type { DecodedDicom, DecodedFrame, DecodeOptions, DicomTechnicalInfo, Raster } from './types';
import type { PaletteLut } from './color';

/** Default cap on the decoded size of one call (all selected frames together). */
export const DEFAULT_MAX_DECODED_BYTES = 1 << 30;

/** A parsed file whose frames can be decoded one at a time. */
export interface DicomImage {
  readonly file: string;
  readonly info: DicomTechnicalInfo;
  /** The frame indices `options` select (stride / maxFrames / frameIndices), in order. */
  selectFrames(options?: DecodeOptions): number[];
  /** Decode one frame (0-based). */
  decodeFrame(index: number): Promise<Raster>;
  /** Decode the selected frames one after another. */
  frames(options?: DecodeOptions): AsyncGenerator<DecodedFrame>;
  /** De-identified metadata for this file (PS3.15 Annex E basic profile), keyed by `deidKey`. */
  deidentify(deidKey: Uint8Array): ReturnType<typeof deidentifyDataSet>;
}

function rasterBytes(info: DicomTechnicalInfo): number {
  const channels = info.outputPhotometric === 'RGB' ? 3 : 1;
  const bytes = info.bitsAllocated > 8 || info.pixelRepresentation === 1 ? 2 : 1;
  return (
    info.rows *
    info.columns *
    channels *
    (info.outputPhotometric === 'RGB' && info.samplesPerPixel === 1 ? 1 : bytes)
  );
}

export function selectFrameIndices(frameCount: number, options: DecodeOptions = {}): number[] {
  if (options.frameIndices) {
    return [...new Set(options.frameIndices)].filter((i) => Number.isInteger(i) && i >= 0 && i < frameCount);
  }
  const stride = Math.max(1, Math.floor(options.stride ?? 1));
  const max = options.maxFrames ?? Number.POSITIVE_INFINITY;
  const out: number[] = [];
  for (let i = 0; i < frameCount && out.length < max; i += stride) out.push(i);
  return out;
}

/** Native samples of one frame as a typed array in machine order (copies; the file bytes stay untouched). */
function nativeSamples(
  parsed: ParsedDicom,
  info: DicomTechnicalInfo,
  index: number,
): Uint8Array | Uint16Array | Int16Array {
  const { bytes, bitOffset } = nativeFrameBytes(parsed, info, index);
  if (info.bitsAllocated === 1) {
    const count = info.rows * info.columns * info.samplesPerPixel;
    const out = new Uint8Array(count);
    for (let i = 0; i < count; i++) {
      const bit = bitOffset + i;
      out[i] = (bytes[bit >> 3] >> (bit & 7)) & 1; // bits fill each byte from the least significant end
    }
    return out;
  }
  if (info.bitsAllocated === 8) return new Uint8Array(bytes);
  if (info.bitsAllocated === 16) {
    const count = bytes.length >> 1;
    const copy = new Uint8Array(bytes); // aligned copy
    if (parsed.transferSyntax?.bigEndian) {
      for (let i = 0; i < copy.length; i += 2) {
        const t = copy[i];
        copy[i] = copy[i + 1];
        copy[i + 1] = t;
      }
    }
    return info.pixelRepresentation === 1
      ? new Int16Array(copy.buffer, 0, count)
      : new Uint16Array(copy.buffer, 0, count);
  }
  throw new DicomError(
    'UNSUPPORTED_IMAGE',
    parsed.file,
    `${info.bitsAllocated}-bit pixel data is not supported (rasters are 8 or 16 bit)`,
  );
}

class Image implements DicomImage {
  readonly file: string;
  readonly info: DicomTechnicalInfo;
  private fragmentMap: FragmentMap | null = null;
  private palette: PaletteLut | null = null;

  constructor(private readonly parsed: ParsedDicom) {
    this.file = parsed.file;
    this.info = readTechnicalInfo(parsed, true);
    if (this.info.bitsAllocated === 32) {
      throw new DicomError(
        'UNSUPPORTED_IMAGE',
        this.file,
        '32-bit pixel data is not supported (rasters are 8 or 16 bit)',
      );
    }
  }

  selectFrames(options?: DecodeOptions): number[] {
    return selectFrameIndices(this.info.numberOfFrames, options);
  }

  deidentify(deidKey: Uint8Array): ReturnType<typeof deidentifyDataSet> {
    return deidentifyDataSet(this.parsed.dataSet, deidKey, {
      fileBytes: this.parsed.bytes,
      ultrasoundRegions: this.info.ultrasoundRegions,
    });
  }

  async *frames(options?: DecodeOptions): AsyncGenerator<DecodedFrame> {
    for (const index of this.selectFrames(options)) yield { index, raster: await this.decodeFrame(index) };
  }

  async decodeFrame(index: number): Promise<Raster> {
    const { info, parsed, file } = this;
    if (!Number.isInteger(index) || index < 0 || index >= info.numberOfFrames) {
      throw new DicomError(
        'MALFORMED',
        file,
        `frame ${index} does not exist (the file has ${info.numberOfFrames})`,
      );
    }
    checkDecodedSize(this, 1);
    const syntax = parsed.transferSyntax;
    if (!syntax) {
      throw new DicomError(
        'UNSUPPORTED_TRANSFER_SYNTAX',
        file,
        `unsupported transfer syntax ${parsed.transferSyntaxUid} (${transferSyntaxName(parsed.transferSyntaxUid)})`,
      );
    }
    try {
      if (syntax.family === 'native' || syntax.family === 'deflate') {
        return this.finish(nativeSamples(parsed, info, index), {
          planar: info.planarConfiguration === 1,
          colorConverted: false,
          native: true,
        });
      }
      this.fragmentMap ??= mapFragments(parsed, info, syntax.family);
      const encoded = encapsulatedFrameBytes(parsed, this.fragmentMap, index);
      const layout: FrameLayout = {
        rows: info.rows,
        columns: info.columns,
        samplesPerPixel: info.samplesPerPixel,
        bitsAllocated: info.bitsAllocated,
        bitsStored: info.bitsStored,
        pixelRepresentation: info.pixelRepresentation,
        photometric: info.photometric,
      };
      let output: CodecOutput;
      try {
        output = await decodeCompressedFrame(syntax.family, encoded, layout);
      } catch (err) {
        if (err instanceof CodecError) {
          throw new DicomError(
            'CODEC_FAILED',
            file,
            `${syntax.name} frame ${index + 1} could not be decoded (corrupt or truncated pixel data): ${err.message}`,
          );
        }
        throw err;
      }
      if (output.components !== info.samplesPerPixel) {
        throw new DicomError(
          'CODEC_FAILED',
          file,
          `codec produced ${output.components} components, Samples per Pixel is ${info.samplesPerPixel}`,
        );
      }
      return this.finish(output.samples, {
        planar: output.planar,
        colorConverted: output.colorConverted,
        native: false,
      });
    } catch (err) {
      throw asDicomError(err, file, 'CODEC_FAILED', `frame ${index + 1}`);
    }
  }

  /** Photometric and bit-depth normalisation to the output raster. */
  private finish(
    samples: Uint8Array | Uint16Array | Int16Array,
    how: { planar: boolean; colorConverted: boolean; native: boolean },
  ): Raster {
    const { info, file } = this;
    const width = info.columns;
    const height = info.rows;
    const pixels = width * height;
    const photometric = info.photometric;

    if (info.samplesPerPixel === 3) {
      let data = samples;
      if (how.native && /_422$/.test(photometric)) {
        if (!(data instanceof Uint8Array))
          throw new DicomError('UNSUPPORTED_IMAGE', file, `16-bit ${photometric} is not supported`);
        data = expand422(data, width, height);
      } else if (how.planar) {
        data = planarToInterleaved(data, pixels, 3);
      }
      if (!how.colorConverted && data instanceof Uint8Array) {
        if (photometric === 'YBR_FULL_422') ybrFull422ToRgb(data);
        else if (photometric.startsWith('YBR_FULL')) ybrFullToRgb(data);
        else if (photometric.startsWith('YBR_PARTIAL')) ybrPartialToRgb(data);
        // YBR_RCT / YBR_ICT are only valid with JPEG 2000, whose codec already inverted the transform.
      }
      if (data instanceof Int16Array) data = new Uint16Array(data.buffer, data.byteOffset, data.length);
      return {
        width,
        height,
        channels: 3,
        bitDepth: data instanceof Uint8Array ? 8 : 16,
        signed: false,
        data,
      };
    }

    const signed = info.pixelRepresentation === 1;
    let mono = samples;
    if (how.native || !(mono instanceof Uint8Array)) {
      mono = normaliseStoredBits(
        mono,
        info.bitsAllocated,
        info.bitsStored,
        how.native ? info.highBit : info.bitsStored - 1,
        signed,
      );
    }
    if (photometric === 'PALETTE COLOR') {
      try {
        this.palette ??= readPalette(this.parsed.dataSet, signed);
      } catch (err) {
        throw asDicomError(err, file, 'MALFORMED', 'palette colour lookup table');
      }
      return {
        width,
        height,
        channels: 3,
        bitDepth: 8,
        signed: false,
        data: applyPalette(mono, this.palette),
      };
    }
    if (signed && mono instanceof Uint8Array) {
      // Signed 8-bit: widen so the raster keeps the sign.
      const wide = new Int16Array(mono.length);
      for (let i = 0; i < mono.length; i++) wide[i] = (mono[i] << 24) >> 24;
      mono = wide;
    } else if (signed && mono instanceof Uint16Array) {
      mono = new Int16Array(mono.buffer, mono.byteOffset, mono.length);
    } else if (!signed && mono instanceof Int16Array) {
      mono = new Uint16Array(mono.buffer, mono.byteOffset, mono.length);
    }
    if (photometric === 'MONOCHROME1') invertMonochrome1(mono, info.bitsStored, signed);
    const bitDepth = mono instanceof Uint8Array ? 8 : 16;
    return { width, height, channels: 1, bitDepth, signed: mono instanceof Int16Array, data: mono };
  }
}

/** Refuse a decode whose rasters would exceed `maxDecodedBytes` (default 1 GiB) before allocating anything. */
export function checkDecodedSize(image: DicomImage, frameCount: number, options: DecodeOptions = {}): void {
  const limit = options.maxDecodedBytes ?? DEFAULT_MAX_DECODED_BYTES;
  const needed = rasterBytes(image.info) * frameCount;
  if (needed > limit) {
    throw new DicomError(
      'TOO_LARGE',
      image.file,
      `decoding ${frameCount} frame(s) of ${image.info.columns}x${image.info.rows} needs ${needed} bytes, over the ${limit}-byte limit (use stride or maxFrames)`,
    );
  }
}

/** Parse `bytes` and describe the image; throws DicomError for anything that is not a decodable image. */
export function openDicom(bytes: Uint8Array, fileName: string): DicomImage {
  let parsed: ParsedDicom;
  try {
    parsed = parseDicomBytes(bytes, fileName);
  } catch (err) {
    throw asDicomError(err, fileName, 'MALFORMED', 'parse');
  }
  try {
    return new Image(parsed);
  } catch (err) {
    throw asDicomError(err, fileName, 'MALFORMED', 'image attributes');
  }
}

/** Technical description only (no pixel decoding). */
export function readDicomInfo(bytes: Uint8Array, fileName: string): DicomTechnicalInfo {
  return openDicom(bytes, fileName).info;
}

/** Decode the frames `options` select (all by default), in-process. Prefer DecodePool for untrusted files. */
export async function decodeDicom(
  bytes: Uint8Array,
  fileName: string,
  options: DecodeOptions = {},
): Promise<DecodedDicom> {
  const image = openDicom(bytes, fileName);
  const deidentified = options.deidKey ? image.deidentify(options.deidKey) : undefined;
  const result: DecodedDicom = { file: fileName, info: image.info, frames: [] };
  if (deidentified) result.deidentified = deidentified;
  if (options.headerOnly) return result;
  const indices = image.selectFrames(options);
  checkDecodedSize(image, indices.length, options);
  for (const index of indices) result.frames.push({ index, raster: await image.decodeFrame(index) });
  return result;
}
