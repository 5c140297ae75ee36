import { createRequire } from 'node:module';
import type { CodecOutput, FrameLayout } from './index';

/**
 * 12-bit JPEG (Extended, process 2/4) through dcmjs-codecs' WebAssembly build of libjpeg-turbo's 12-bit
 * decoder (`JpegDecoder12`). Its pixels are identical to dcmtk's and GDCM's (both IJG libjpeg 12-bit).
 *
 * The package is loaded on first use only (it pulls in dcmjs). Its Transcoder refuses 1.2.840.10008.1.2.4.51,
 * so we call its public `NativeCodecs.decodeJpeg(context)` on the frame directly. The native side reports
 * errors by throwing out of the WASM call, which leaks its C++ state: the instance is then dropped and a
 * fresh one instantiated on the next frame.
 */
const require = createRequire(import.meta.url);

interface ContextAttributes {
  width: number;
  height: number;
  bitsAllocated: number;
  bitsStored: number;
  samplesPerPixel: number;
  pixelRepresentation: number;
  planarConfiguration: number;
  photometricInterpretation: string;
  encodedBuffer: Uint8Array;
}

interface DecodedContext {
  getWidth(): number | undefined;
  getHeight(): number | undefined;
  getSamplesPerPixel(): number | undefined;
  getBitsAllocated(): number | undefined;
  getDecodedBuffer(): Uint8Array | undefined;
}

interface DcmjsCodecs {
  Context: new (attributes: ContextAttributes) => DecodedContext;
  NativeCodecs: {
    initializeAsync(options: { webAssemblyModulePathOrUrl: string }): Promise<void>;
    isInitialized(): boolean;
    release(): void;
    decodeJpeg(context: DecodedContext, parameters: { convertColorspaceToRgb: boolean }): DecodedContext;
  };
}

let ready: Promise<DcmjsCodecs> | null = null;

function load(): Promise<DcmjsCodecs> {
  if (!ready) {
    const lib = require('dcmjs-codecs') as DcmjsCodecs;
    // Explicit path: the package would otherwise look next to a bundle that is not its own.
    const wasm = require.resolve('dcmjs-codecs/build/dcmjs-native-codecs.wasm');
    ready = lib.NativeCodecs.initializeAsync({ webAssemblyModulePathOrUrl: wasm }).then(() => lib);
    ready.catch(() => {
      ready = null;
    });
  }
  return ready;
}

/** Decode one 12-bit JPEG frame; throws an Error with the codec's own words on corrupt data. */
export async function decodeJpeg12(encoded: Uint8Array, layout: FrameLayout): Promise<CodecOutput> {
  const lib = await load();
  const colour = layout.samplesPerPixel === 3;
  // As dcmjs-codecs' own JPEG codec: YCbCr streams are converted to RGB, RGB ones are left as they are.
  const convert = colour && layout.photometric !== 'RGB';
  let decoded: DecodedContext;
  try {
    decoded = lib.NativeCodecs.decodeJpeg(
      new lib.Context({
        width: layout.columns,
        height: layout.rows,
        bitsAllocated: 16,
        bitsStored: 12, // selects the 12-bit decoder; the caller masks to the header's Bits Stored
        samplesPerPixel: layout.samplesPerPixel,
        pixelRepresentation: layout.pixelRepresentation,
        planarConfiguration: 0,
        photometricInterpretation: layout.photometric,
        encodedBuffer: encoded,
      }),
      { convertColorspaceToRgb: convert },
    );
  } catch (err) {
    lib.NativeCodecs.release();
    ready = null;
    throw err;
  }
  const bytes = decoded.getDecodedBuffer() ?? new Uint8Array(0);
  // getDecodedBuffer() is a fresh copy; re-copy only when it is not 2-byte aligned.
  const aligned = bytes.byteOffset % 2 === 0 ? bytes : new Uint8Array(bytes);
  const count = Math.floor(aligned.byteLength / 2);
  return {
    samples:
      layout.pixelRepresentation === 1
        ? new Int16Array(aligned.buffer, aligned.byteOffset, count)
        : new Uint16Array(aligned.buffer, aligned.byteOffset, count),
    width: decoded.getWidth() ?? 0,
    height: decoded.getHeight() ?? 0,
    components: decoded.getSamplesPerPixel() ?? layout.samplesPerPixel,
    planar: false,
    colorConverted: convert,
  };
}
