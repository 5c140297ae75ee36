/**
 * libjpeg guesses a 3-component JPEG's colour space from markers: a JFIF APP0 means YCbCr, an Adobe APP14
 * says it outright, otherwise component ids 'R','G','B' mean RGB and anything else YCbCr. DICOM says it in
 * Photometric Interpretation instead, and encoders that store RGB without a colour transform often leave
 * ids 1,2,3. The WASM build offers no switch for the output colour space, so when the header says RGB we
 * relabel the stream the way libjpeg understands (ids R,G,B; no JFIF; Adobe transform 0): the same
 * decision dcmtk makes with its default "convert only if the photometric interpretation is YCbCr".
 * Only marker bytes change; entropy-coded data is copied untouched.
 */
const RGB_IDS = [0x52, 0x47, 0x42];

export function labelJpegAsRgb(input: Uint8Array): Uint8Array {
  if (input.length < 4 || input[0] !== 0xff || input[1] !== 0xd8) return input;
  const out = new Uint8Array(input);
  const idMap = new Map<number, number>();
  let pos = 2;
  while (pos + 3 < out.length) {
    if (out[pos] !== 0xff) {
      pos++; // inside entropy-coded data
      continue;
    }
    const marker = out[pos + 1];
    if (marker === 0x00 || marker === 0xff || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
      pos += marker === 0xff ? 1 : 2; // stuffed byte, fill byte, restart marker
      continue;
    }
    if (marker === 0xd9) break; // EOI
    const length = (out[pos + 2] << 8) | out[pos + 3];
    const body = pos + 4;
    if (body + length - 2 > out.length) break;
    if (
      marker === 0xe0 &&
      out[body] === 0x4a &&
      out[body + 1] === 0x46 &&
      out[body + 2] === 0x49 &&
      out[body + 3] === 0x46
    ) {
      out[pos + 1] = 0xef; // JFIF APP0 -> APP15, which libjpeg skips
    } else if (
      marker === 0xee &&
      out[body] === 0x41 &&
      out[body + 1] === 0x64 &&
      out[body + 2] === 0x6f &&
      length >= 14
    ) {
      out[body + 11] = 0; // Adobe transform: none
    } else if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      const components = out[body + 5];
      if (components !== 3) return input;
      for (let c = 0; c < 3; c++) {
        const at = body + 6 + c * 3;
        idMap.set(out[at], RGB_IDS[c]);
        out[at] = RGB_IDS[c];
      }
    } else if (marker === 0xda) {
      const components = out[body];
      for (let c = 0; c < components; c++) {
        const at = body + 1 + c * 2;
        out[at] = idMap.get(out[at]) ?? out[at];
      }
    }
    pos = body + length - 2;
  }
  return out;
}
