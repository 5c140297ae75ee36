import fs from 'node:fs';
import { createRequire } from 'node:module';

/**
 * Loading of the Emscripten-built codecs (@cornerstonejs/codec-*). Each package ships a factory script and
 * a .wasm file; we hand the factory the .wasm bytes read from the installed package (wasmBinary), so no
 * fetch or network is ever attempted. A module that aborted (Emscripten abort on corrupt input leaves it
 * unusable) is dropped and instantiated afresh on next use.
 */
const require = createRequire(import.meta.url);

/** What every codec's decoder object offers (the names match the C++ bindings). */
export interface WasmFrameInfo {
  width: number;
  height: number;
  bitsPerSample: number;
  componentCount: number;
  isSigned: boolean;
}

export interface WasmDecoder {
  getEncodedBuffer(length: number): Uint8Array;
  getDecodedBuffer(): Uint8Array;
  decode(): void;
  getFrameInfo(): WasmFrameInfo;
  delete?(): void;
}

export interface JpegLsDecoder extends WasmDecoder {
  getInterleaveMode(): number;
  getNearLossless(): number;
}

export interface Jpeg2000Decoder extends WasmDecoder {
  getColorSpace?(): number;
  getIsReversible(): boolean;
}

export interface HtJ2kDecoder extends WasmDecoder {
  decodeSubResolution(level: number): void;
}

interface CodecModule {
  JPEGDecoder?: new () => WasmDecoder;
  JpegLSDecoder?: new () => JpegLsDecoder;
  J2KDecoder?: new () => Jpeg2000Decoder;
  HTJ2KDecoder?: new () => HtJ2kDecoder;
  getExceptionMessage?(pointer: number): string | [string, string];
}

type Factory = (options: {
  wasmBinary: Uint8Array;
  print?: (s: string) => void;
  printErr?: (s: string) => void;
}) => Promise<CodecModule>;

export type CodecName = 'libjpeg-turbo' | 'charls' | 'openjpeg' | 'openjph';

const PACKAGES: Record<CodecName, { js: string; wasm: string }> = {
  'libjpeg-turbo': {
    js: '@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasmjs',
    wasm: '@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasm',
  },
  charls: { js: '@cornerstonejs/codec-charls/decodewasmjs', wasm: '@cornerstonejs/codec-charls/decodewasm' },
  openjpeg: {
    js: '@cornerstonejs/codec-openjpeg/decodewasmjs',
    wasm: '@cornerstonejs/codec-openjpeg/decodewasm',
  },
  openjph: { js: '@cornerstonejs/codec-openjph/wasmjs', wasm: '@cornerstonejs/codec-openjph/wasm' },
};

const modules = new Map<CodecName, Promise<CodecModule>>();

export function loadCodec(name: CodecName): Promise<CodecModule> {
  let pending = modules.get(name);
  if (!pending) {
    const spec = PACKAGES[name];
    const loaded = require(spec.js) as Factory | { default: Factory };
    const factory = typeof loaded === 'function' ? loaded : loaded.default;
    const wasmBinary = fs.readFileSync(require.resolve(spec.wasm));
    // Codec chatter (warnings on stdout/stderr) must not reach our logs: messages come back via exceptions.
    pending = factory({ wasmBinary, print: () => undefined, printErr: () => undefined });
    pending.catch(() => modules.delete(name));
    modules.set(name, pending);
  }
  return pending;
}

/** Forget a module after an abort so the next frame gets a fresh instance. */
export function resetCodec(name: CodecName): void {
  modules.delete(name);
}

/** Turn whatever an Emscripten codec threw (a number pointer, a string, an Error) into words. */
export function codecErrorMessage(module: CodecModule | undefined, err: unknown): string {
  if (typeof err === 'number' && !module?.getExceptionMessage)
    return 'the codec rejected the data (corrupt stream)';
  if (typeof err === 'number' && module?.getExceptionMessage) {
    try {
      const message = module.getExceptionMessage(err);
      return Array.isArray(message) ? message.join(': ') : message;
    } catch {
      return `codec exception ${err}`;
    }
  }
  if (err instanceof Error) return err.message;
  return String(err);
}

/** Copy the decoded buffer out of the WASM heap (the heap view is reused by the next decode). */
export function copyOut(view: Uint8Array): Uint8Array {
  return new Uint8Array(view);
}
