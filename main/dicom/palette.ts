import type { DataSet, Element } from './dicom-parser-lib';
import { dicomParser } from './dicom-parser-lib';
import { expandSegmentedLut, type PaletteLut } from './color';
import { elementInBounds } from './parse';

/** The words of an OW/US element, read with the byte order of the dataset it sits in. */
function readWords(dataSet: DataSet, element: Element): Uint16Array {
  const count = Math.floor(element.length / 2);
  const out = new Uint16Array(count);
  const view = new DataView(
    dataSet.byteArray.buffer,
    dataSet.byteArray.byteOffset + element.dataOffset,
    count * 2,
  );
  const little = (element.parser ?? dataSet.byteArrayParser) !== dicomParser.bigEndianByteArrayParser;
  for (let i = 0; i < count; i++) out[i] = view.getUint16(i * 2, little);
  return out;
}

interface Channel {
  entries: number;
  firstMapped: number;
  bits: number;
  values: number[] | Uint16Array | Uint8Array;
}

function readChannel(dataSet: DataSet, colour: 'red' | 'green' | 'blue', signedIndices: boolean): Channel {
  const suffix = { red: '1', green: '2', blue: '3' }[colour];
  const descriptorTag = `x0028110${suffix}`;
  const descriptor = dataSet.elements[descriptorTag];
  if (!descriptor || descriptor.length < 6 || !elementInBounds(dataSet, descriptor)) {
    throw new Error(`palette colour image without a ${colour} LUT descriptor (0028,110${suffix})`);
  }
  const rawEntries = dataSet.uint16(descriptorTag, 0) ?? 0;
  const entries = rawEntries === 0 ? 65536 : rawEntries;
  const firstMapped =
    (signedIndices ? dataSet.int16(descriptorTag, 1) : dataSet.uint16(descriptorTag, 1)) ?? 0;
  const bits = dataSet.uint16(descriptorTag, 2) ?? 16;

  const segmented = dataSet.elements[`x0028122${suffix}`];
  const plain = dataSet.elements[`x0028120${suffix}`];
  if (segmented && segmented.length > 0 && elementInBounds(dataSet, segmented)) {
    return { entries, firstMapped, bits, values: expandSegmentedLut(readWords(dataSet, segmented), entries) };
  }
  if (!plain || plain.length === 0) {
    throw new Error(`palette colour image without ${colour} LUT data (0028,120${suffix})`);
  }
  if (!elementInBounds(dataSet, plain)) throw new Error(`truncated ${colour} palette LUT data`);
  // 8-bit tables are sometimes packed one entry per byte, sometimes one per 16-bit word: the data length
  // tells which (as pydicom and dcmtk decide it).
  if (bits <= 8 && plain.length === entries) {
    return {
      entries,
      firstMapped,
      bits,
      values: new Uint8Array(
        dataSet.byteArray.buffer,
        dataSet.byteArray.byteOffset + plain.dataOffset,
        entries,
      ),
    };
  }
  return { entries, firstMapped, bits, values: readWords(dataSet, plain) };
}

/** Scale a channel's entries to 8 bits: 16-bit tables by their top byte, unless every value fits a byte. */
function toBytes(channel: Channel): Uint8Array {
  const n = Math.min(channel.entries, channel.values.length);
  const out = new Uint8Array(n);
  let max = 0;
  for (let i = 0; i < n; i++) max = Math.max(max, channel.values[i]);
  const shift = channel.bits > 8 && max > 255 ? channel.bits - 8 : 0;
  for (let i = 0; i < n; i++) out[i] = Math.min(255, channel.values[i] >> shift);
  return out;
}

/** Read the red/green/blue palette tables (plain or segmented) of a PALETTE COLOR image. */
export function readPalette(dataSet: DataSet, signedIndices: boolean): PaletteLut {
  const red = readChannel(dataSet, 'red', signedIndices);
  const green = readChannel(dataSet, 'green', signedIndices);
  const blue = readChannel(dataSet, 'blue', signedIndices);
  const r = toBytes(red);
  const g = toBytes(green);
  const b = toBytes(blue);
  const n = Math.min(r.length, g.length, b.length);
  if (n === 0) throw new Error('palette LUT has no entries');
  return {
    firstMapped: red.firstMapped,
    red: r.subarray(0, n),
    green: g.subarray(0, n),
    blue: b.subarray(0, n),
  };
}
