/**
 * DICOM RLE Lossless (PS3.5 Annex G). No maintained npm package decodes it outside a viewer framework, and
 * the format is small: a 64-byte header with up to 15 segment offsets, each segment one byte plane coded
 * with PackBits. Segments run sample by sample, most significant byte first.
 */
export interface RleFrameLayout {
  rows: number;
  columns: number;
  samplesPerPixel: number;
  bitsAllocated: number;
}

/** Decode one RLE frame to interleaved samples (8-bit: one byte each; 16-bit: native-endian Uint16). */
export function decodeRleFrame(encoded: Uint8Array, layout: RleFrameLayout): Uint8Array | Uint16Array {
  const { rows, columns, samplesPerPixel, bitsAllocated } = layout;
  if (bitsAllocated !== 8 && bitsAllocated !== 16 && bitsAllocated !== 32) {
    throw new Error(`RLE with Bits Allocated ${bitsAllocated} is not supported`);
  }
  if (encoded.length < 64) throw new Error('RLE frame is shorter than its 64-byte header');
  const view = new DataView(encoded.buffer, encoded.byteOffset, encoded.byteLength);
  const segmentCount = view.getUint32(0, true);
  const bytesPerSample = bitsAllocated / 8;
  const expectedSegments = samplesPerPixel * bytesPerSample;
  if (segmentCount !== expectedSegments) {
    throw new Error(`RLE header lists ${segmentCount} segments, the image needs ${expectedSegments}`);
  }
  const offsets: number[] = [];
  for (let i = 0; i < segmentCount; i++) offsets.push(view.getUint32(4 + 4 * i, true));
  const pixels = rows * columns;
  const out = new Uint8Array(pixels * samplesPerPixel * bytesPerSample);
  // Byte b of sample s of pixel p (big-endian within the sample, as the segments come) goes to the
  // little-endian position of an interleaved buffer, so a Uint16Array view reads it natively.
  for (let segment = 0; segment < segmentCount; segment++) {
    const sample = Math.floor(segment / bytesPerSample);
    const byteInSample = segment % bytesPerSample; // 0 = most significant
    const start = offsets[segment];
    const end = segment + 1 < segmentCount ? offsets[segment + 1] : encoded.length;
    if (start < 64 || start > encoded.length || end < start) {
      throw new Error(`RLE segment ${segment + 1} offset ${start} lies outside the frame`);
    }
    const littleEndianByte = bytesPerSample - 1 - byteInSample;
    const stride = samplesPerPixel * bytesPerSample;
    unpackBits(
      encoded,
      start,
      Math.min(end, encoded.length),
      out,
      sample * bytesPerSample + littleEndianByte,
      stride,
      pixels,
    );
  }
  if (bitsAllocated === 8) return out;
  if (bitsAllocated === 16) return new Uint16Array(out.buffer, out.byteOffset, out.length / 2);
  throw new Error('32-bit RLE pixel data is not supported');
}

/** PackBits: n in 0..127 copies n+1 literal bytes, n in -127..-1 repeats the next byte 1-n times, -128 is a no-op. */
function unpackBits(
  src: Uint8Array,
  start: number,
  end: number,
  out: Uint8Array,
  firstIndex: number,
  stride: number,
  count: number,
): void {
  let pos = start;
  let written = 0;
  let outIndex = firstIndex;
  while (written < count && pos < end) {
    const header = src[pos++];
    if (header < 128) {
      const n = Math.min(header + 1, count - written, end - pos);
      for (let i = 0; i < n; i++) {
        out[outIndex] = src[pos++];
        outIndex += stride;
      }
      written += n;
    } else if (header > 128) {
      if (pos >= end) break;
      const value = src[pos++];
      const n = Math.min(257 - header, count - written);
      for (let i = 0; i < n; i++) {
        out[outIndex] = value;
        outIndex += stride;
      }
      written += n;
    }
  }
  if (written < count) {
    throw new Error(`RLE segment ends after ${written} of ${count} bytes (truncated pixel data)`);
  }
}
