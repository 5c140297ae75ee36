import { Decoder as JpegLosslessDecoder } from 'jpeg-lossless-decoder-js';
import type { CodecFamily } from '../transfer-syntax';
import { labelJpegAsRgb } from './jpeg-colorspace';
import { decodeJpeg12 } from './jpeg12';
import { decodeRleFrame } from './rle';
import { codecErrorMessage, copyOut, loadCodec, resetCodec, type CodecName, type WasmDecoder } from './wasm';

/** What the frame decoder needs to know about the image to pick and check a codec. */
export interface FrameLayout {
  rows: number;
  columns: number;
  samplesPerPixel: number;
  bitsAllocated: number;
  bitsStored: number;
  pixelRepresentation: 0 | 1;
  /** Photometric Interpretation from the header (decides whether a JPEG holds RGB or YCbCr). */
  photometric: string;
}

/** A codec's output: samples interleaved unless `planar`; `colorConverted` when the codec produced RGB. */
export interface CodecOutput {
  samples: Uint8Array | Uint16Array | Int16Array;
  width: number;
  height: number;
  components: number;
  planar: boolean;
  /** True when the codec already turned YCbCr into RGB (JPEG baseline, JPEG 2000 with MCT). */
  colorConverted: boolean;
}

/** Thrown for codec failures; the caller wraps it in a DicomError with the file name. */
export class CodecError extends Error {}

/** Precision (bits per sample) of the first SOFn marker of a JPEG stream, or null when there is none. */
export function jpegPrecision(bytes: Uint8Array): number | null {
  let pos = 2;
  while (pos + 4 < bytes.length) {
    if (bytes[pos] !== 0xff) {
      pos++;
      continue;
    }
    const marker = bytes[pos + 1];
    if (marker === 0xff || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8)) {
      pos += marker === 0xff ? 1 : 2;
      continue;
    }
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return pos + 4 < bytes.length ? bytes[pos + 4] : null;
    }
    if (marker === 0xda) return null; // scan before any frame header
    const length = (bytes[pos + 2] << 8) | bytes[pos + 3];
    pos += 2 + length;
  }
  return null;
}

function widen(
  raw: Uint8Array,
  bitsPerSample: number,
  signed: boolean,
): Uint8Array | Uint16Array | Int16Array {
  if (bitsPerSample <= 8) return raw;
  const aligned = raw.byteOffset % 2 === 0 ? raw : new Uint8Array(raw);
  const count = Math.floor(aligned.byteLength / 2);
  return signed
    ? new Int16Array(aligned.buffer, aligned.byteOffset, count)
    : new Uint16Array(aligned.buffer, aligned.byteOffset, count);
}

async function runWasm<T extends WasmDecoder, R>(
  name: CodecName,
  create: (module: Awaited<ReturnType<typeof loadCodec>>) => T,
  encoded: Uint8Array,
  decode: (decoder: T) => R,
): Promise<{ result: R; raw: Uint8Array }> {
  const module = await loadCodec(name);
  let decoder: T | undefined;
  try {
    decoder = create(module);
    decoder.getEncodedBuffer(encoded.length).set(encoded);
    const result = decode(decoder);
    const raw = copyOut(decoder.getDecodedBuffer());
    return { result, raw };
  } catch (err) {
    // After an Emscripten abort the instance is unusable: start over next time.
    resetCodec(name);
    throw new CodecError(`${name}: ${codecErrorMessage(module, err)}`);
  } finally {
    try {
      decoder?.delete?.();
    } catch {
      /* an aborted module cannot free; it is dropped anyway */
    }
  }
}

function checkSize(output: CodecOutput, layout: FrameLayout): CodecOutput {
  if (output.width !== layout.columns || output.height !== layout.rows) {
    throw new CodecError(
      `codec output is ${output.width}x${output.height}, the header says ${layout.columns}x${layout.rows}`,
    );
  }
  const expected = output.width * output.height * output.components;
  if (output.samples.length < expected) {
    throw new CodecError(`codec returned ${output.samples.length} samples, ${expected} expected`);
  }
  if (output.samples.length > expected) output.samples = output.samples.subarray(0, expected);
  return output;
}

async function decodeJpegBaseline(encoded: Uint8Array): Promise<CodecOutput> {
  const { result: info, raw } = await runWasm(
    'libjpeg-turbo',
    (m) => {
      if (!m.JPEGDecoder) throw new CodecError('libjpeg-turbo module has no JPEGDecoder');
      return new m.JPEGDecoder();
    },
    encoded,
    (d) => {
      d.decode();
      return d.getFrameInfo();
    },
  );
  return {
    samples: raw,
    width: info.width,
    height: info.height,
    components: info.componentCount,
    planar: false,
    colorConverted: info.componentCount === 3,
  };
}

function decodeJpegLossless(encoded: Uint8Array, layout: FrameLayout): CodecOutput {
  const bytesPerSample = layout.bitsAllocated <= 8 ? 1 : 2;
  let out: ArrayLike<number> & { buffer: ArrayBufferLike; byteOffset: number; byteLength: number };
  try {
    const decoder = new JpegLosslessDecoder();
    const copy = new Uint8Array(encoded); // the decoder keeps a DataView over the buffer it is given
    out = decoder.decode(copy.buffer, 0, copy.byteLength, bytesPerSample);
  } catch (err) {
    throw new CodecError(`jpeg-lossless-decoder-js: ${err instanceof Error ? err.message : String(err)}`);
  }
  const bytes = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  const samples =
    bytesPerSample === 1
      ? new Uint8Array(bytes)
      : layout.pixelRepresentation === 1
        ? new Int16Array(new Uint8Array(bytes).buffer)
        : new Uint16Array(new Uint8Array(bytes).buffer);
  return {
    samples,
    width: layout.columns,
    height: layout.rows,
    components: layout.samplesPerPixel,
    planar: false,
    colorConverted: false,
  };
}

async function decodeJpegLs(encoded: Uint8Array, layout: FrameLayout): Promise<CodecOutput> {
  const { result, raw } = await runWasm(
    'charls',
    (m) => {
      if (!m.JpegLSDecoder) throw new CodecError('CharLS module has no JpegLSDecoder');
      return new m.JpegLSDecoder();
    },
    encoded,
    (d) => {
      d.decode();
      return { info: d.getFrameInfo(), interleave: d.getInterleaveMode() };
    },
  );
  const info = result.info;
  // Interleave mode 0 ("none") comes out plane by plane.
  const planar = info.componentCount > 1 && result.interleave === 0;
  return {
    samples: widen(raw, info.bitsPerSample, layout.pixelRepresentation === 1),
    width: info.width,
    height: info.height,
    components: info.componentCount,
    planar,
    colorConverted: false,
  };
}

async function decodeJpeg2000(encoded: Uint8Array, layout: FrameLayout): Promise<CodecOutput> {
  const { result: info, raw } = await runWasm(
    'openjpeg',
    (m) => {
      if (!m.J2KDecoder) throw new CodecError('OpenJPEG module has no J2KDecoder');
      return new m.J2KDecoder();
    },
    encoded,
    (d) => {
      d.decode();
      return d.getFrameInfo();
    },
  );
  return {
    samples: widen(raw, info.bitsPerSample, info.isSigned || layout.pixelRepresentation === 1),
    width: info.width,
    height: info.height,
    components: info.componentCount,
    planar: false,
    // OpenJPEG applies the inverse multi-component transform (RCT/ICT) itself.
    colorConverted: info.componentCount === 3,
  };
}

async function decodeHtj2k(encoded: Uint8Array, layout: FrameLayout): Promise<CodecOutput> {
  const { result: info, raw } = await runWasm(
    'openjph',
    (m) => {
      if (!m.HTJ2KDecoder) throw new CodecError('OpenJPH module has no HTJ2KDecoder');
      return new m.HTJ2KDecoder();
    },
    encoded,
    (d) => {
      d.decodeSubResolution(0);
      return d.getFrameInfo();
    },
  );
  return {
    samples: widen(raw, info.bitsPerSample, info.isSigned || layout.pixelRepresentation === 1),
    width: info.width,
    height: info.height,
    components: info.componentCount,
    planar: false,
    colorConverted: info.componentCount === 3,
  };
}

/** Decode one compressed frame with the codec for its transfer syntax family. */
export async function decodeCompressedFrame(
  family: CodecFamily,
  encoded: Uint8Array,
  layout: FrameLayout,
): Promise<CodecOutput> {
  switch (family) {
    case 'rle': {
      let samples: Uint8Array | Uint16Array;
      try {
        samples = decodeRleFrame(encoded, layout);
      } catch (err) {
        throw new CodecError(`RLE: ${err instanceof Error ? err.message : String(err)}`);
      }
      const signed = layout.pixelRepresentation === 1 && samples instanceof Uint16Array;
      return {
        samples: signed ? new Int16Array(samples.buffer, samples.byteOffset, samples.length) : samples,
        width: layout.columns,
        height: layout.rows,
        components: layout.samplesPerPixel,
        planar: false,
        colorConverted: false,
      };
    }
    case 'jpeg-baseline':
    case 'jpeg-extended': {
      const precision = jpegPrecision(encoded);
      if (precision === 12) {
        try {
          return checkSize(await decodeJpeg12(encoded, layout), layout);
        } catch (err) {
          if (err instanceof CodecError) throw err;
          throw new CodecError(
            `dcmjs-codecs (libjpeg-turbo 12-bit): ${err instanceof Error ? err.message : String(err)}`,
          );
        }
      }
      if (precision !== null && precision > 8) {
        throw new CodecError(`${precision}-bit DCT JPEG is not valid (JPEG allows 8 or 12 bits)`);
      }
      const stream =
        layout.samplesPerPixel === 3 && layout.photometric === 'RGB' ? labelJpegAsRgb(encoded) : encoded;
      return checkSize(await decodeJpegBaseline(stream), layout);
    }
    case 'jpeg-lossless':
      return checkSize(decodeJpegLossless(encoded, layout), layout);
    case 'jpeg-ls':
      return checkSize(await decodeJpegLs(encoded, layout), layout);
    case 'jpeg2000':
      return checkSize(await decodeJpeg2000(encoded, layout), layout);
    case 'htj2k':
      return checkSize(await decodeHtj2k(encoded, layout), layout);
    case 'native':
    case 'deflate':
      throw new CodecError('native pixel data is not compressed');
  }
}
