// The package names a types file it does not ship; this is the part of its API we use.
declare module 'jpeg-lossless-decoder-js' {
  export class Decoder {
    constructor(buffer?: ArrayBuffer, numBytes?: number);
    /** Returns the decoded samples (Uint8Array for 1 byte per sample, Uint16Array for 2), interleaved. */
    decode(
      buffer: ArrayBufferLike,
      offset?: number,
      length?: number,
      numBytes?: number,
    ): ArrayLike<number> & { buffer: ArrayBufferLike; byteOffset: number; byteLength: number };
  }
}
