import zlib from 'node:zlib';
import { dicomParser, type DataSet, type Element } from './dicom-parser-lib';
import { DicomError } from './errors';
import { findTransferSyntax, transferSyntaxName, type TransferSyntax } from './transfer-syntax';

const IMPLICIT_LE = '1.2.840.10008.1.2';
const EXPLICIT_LE = '1.2.840.10008.1.2.1';
const EXPLICIT_BE = '1.2.840.10008.1.2.2';
const DEFLATED = '1.2.840.10008.1.2.1.99';

/** Inflated datasets larger than this are refused (a deflate bomb would otherwise exhaust memory). */
export const DEFAULT_MAX_INFLATED_BYTES = 1 << 30;

export interface ParsedDicom {
  file: string;
  dataSet: DataSet;
  transferSyntaxUid: string;
  transferSyntaxName: string;
  /** Undefined when the UID is not one we can decode (the header is still readable). */
  transferSyntax: TransferSyntax | undefined;
  /** The byte array the dataset's offsets point into (the inflated copy for deflated files). */
  bytes: Uint8Array;
  /** Set when the dataset parser stopped before the end: elements read so far are kept. */
  parseError: string | null;
  /** How the encoding was determined, for diagnostics. */
  encodingSource: 'meta' | 'guessed';
}

const KNOWN_VRS = new Set(
  'AE AS AT CS DA DS DT FL FD IS LO LT OB OD OF OL OV OW PN SH SL SQ SS ST SV TM UC UI UL UN UR US UT UV'.split(
    ' ',
  ),
);
/** Groups a dataset may plausibly start with: command, meta, identifying, patient, acquisition... */
const START_GROUPS = new Set([0x0000, 0x0002, 0x0004, 0x0008, 0x0010, 0x0018, 0x0020, 0x0028]);

type Sniffed = typeof IMPLICIT_LE | typeof EXPLICIT_LE | typeof EXPLICIT_BE;

/**
 * Guess how a dataset starting at `pos` is encoded, by reading its first elements every possible way and
 * keeping the one whose tags ascend with sane lengths. Returns null for bytes that are not a dataset.
 */
export function sniffEncoding(bytes: Uint8Array, pos: number): Sniffed | null {
  for (const candidate of [EXPLICIT_LE, IMPLICIT_LE, EXPLICIT_BE] as const) {
    if (walksCleanly(bytes, pos, candidate)) return candidate;
  }
  return null;
}

function walksCleanly(bytes: Uint8Array, start: number, syntax: Sniffed): boolean {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const little = syntax !== EXPLICIT_BE;
  let pos = start;
  let lastTag = -1;
  let seen = 0;
  while (seen < 4 && pos + 8 <= bytes.length) {
    const group = view.getUint16(pos, little);
    const element = view.getUint16(pos + 2, little);
    if (seen === 0 && !START_GROUPS.has(group)) return false;
    const tag = group * 0x10000 + element;
    if (tag <= lastTag || group % 2 === 1 || group > 0x7fe0) return false;
    lastTag = tag;
    let length: number;
    let header: number;
    if (syntax === IMPLICIT_LE) {
      const vr = String.fromCharCode(bytes[pos + 4], bytes[pos + 5]);
      if (KNOWN_VRS.has(vr)) return false; // explicit data read implicitly
      length = view.getUint32(pos + 4, true);
      header = 8;
    } else {
      const vr = String.fromCharCode(bytes[pos + 4], bytes[pos + 5]);
      if (!KNOWN_VRS.has(vr)) return false;
      if (['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'UC', 'UN', 'UR', 'UT', 'UV'].includes(vr)) {
        if (pos + 12 > bytes.length) return seen > 0;
        length = view.getUint32(pos + 8, little);
        header = 12;
      } else {
        length = view.getUint16(pos + 6, little);
        header = 8;
      }
    }
    seen++;
    if (length === 0xffffffff) return true; // a sequence or encapsulated data: the walk so far was sane
    pos += header + length;
    if (pos > bytes.length) return seen > 1 || length < 1 << 30;
  }
  return seen > 0;
}

function readUid(dataSet: DataSet, tag: string): string | undefined {
  const raw = dataSet.string(tag);
  return raw?.replace(/[\0\s]+$/g, '') || undefined;
}

function hasDicmPrefix(bytes: Uint8Array): boolean {
  return (
    bytes.length >= 132 &&
    bytes[128] === 0x44 &&
    bytes[129] === 0x49 &&
    bytes[130] === 0x43 &&
    bytes[131] === 0x4d
  );
}

function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (typeof err === 'string') return err;
  if (err && typeof err === 'object' && 'exception' in err)
    return messageOf((err as { exception: unknown }).exception);
  return String(err);
}

/** True for dicom-parser messages that mean "the bytes ran out". */
export function looksTruncated(message: string): boolean {
  return /past end|overread|overrun|end of buffer|beyond|greater than or equal to|eof|maxP ?osition|not found at offset/i.test(
    message,
  );
}

interface MetaHeader {
  dataSet: DataSet | null;
  /** Where the main dataset starts in `bytes`. */
  position: number;
  bytes: Uint8Array;
}

function readMetaHeader(bytes: Uint8Array, file: string): MetaHeader {
  let work = bytes;
  if (!hasDicmPrefix(bytes)) {
    // Some writers drop the 128-byte preamble but keep the meta group: give it back so the parser reads it.
    const sniffed = sniffEncoding(bytes, 0);
    const group = bytes.length >= 2 ? bytes[0] | (bytes[1] << 8) : -1;
    if (sniffed === EXPLICIT_LE && group === 0x0002) {
      work = new Uint8Array(bytes.length + 132);
      work.set([0x44, 0x49, 0x43, 0x4d], 128);
      work.set(bytes, 132);
    } else if (sniffed) {
      return { dataSet: null, position: 0, bytes };
    } else {
      throw new DicomError(
        'NOT_DICOM',
        file,
        'not a DICOM file: no DICM preamble and no recognisable dataset',
      );
    }
  }
  try {
    const meta = dicomParser.readPart10Header(work) as DataSet & { position?: number };
    return { dataSet: meta, position: meta.position ?? 132, bytes: work };
  } catch (err) {
    const message = messageOf(err);
    if (looksTruncated(message)) {
      throw new DicomError('TRUNCATED', file, `truncated file meta information (${message})`);
    }
    throw new DicomError('MALFORMED', file, `unreadable file meta information (${message})`);
  }
}

function inflate(bytes: Uint8Array, position: number, file: string, maxBytes: number): Uint8Array {
  let inflated: Buffer;
  try {
    inflated = zlib.inflateRawSync(bytes.subarray(position), { maxOutputLength: maxBytes });
  } catch (err) {
    const message = messageOf(err);
    if (/maxOutputLength|Cannot create a Buffer larger/i.test(message)) {
      throw new DicomError('TOO_LARGE', file, `deflated dataset inflates beyond ${maxBytes} bytes`);
    }
    if (/unexpected end/i.test(message)) {
      throw new DicomError('TRUNCATED', file, `truncated deflated dataset (${message})`);
    }
    throw new DicomError('MALFORMED', file, `deflated dataset cannot be inflated (${message})`);
  }
  const whole = new Uint8Array(position + inflated.length);
  whole.set(bytes.subarray(0, position), 0);
  whole.set(inflated, position);
  return whole;
}

export interface ParseOptions {
  maxInflatedBytes?: number;
}

/**
 * Parse a DICOM file (Part 10 with or without preamble, or a bare dataset) into a dicom-parser DataSet.
 * Throws DicomError for input that is not DICOM; a dataset that breaks off midway is returned with what
 * could be read and `parseError` set, so the caller decides whether what is there is enough.
 */
export function parseDicomBytes(input: Uint8Array, file: string, options: ParseOptions = {}): ParsedDicom {
  if (input.length < 8) {
    throw new DicomError('NOT_DICOM', file, `not a DICOM file: only ${input.length} bytes`);
  }
  const meta = readMetaHeader(input, file);
  let bytes = meta.bytes;
  const declared = meta.dataSet ? readUid(meta.dataSet, 'x00020010') : undefined;
  let uid: string;
  let encodingSource: ParsedDicom['encodingSource'] = 'meta';
  if (declared) {
    uid = declared;
  } else {
    const sniffed = meta.position < bytes.length ? sniffEncoding(bytes, meta.position) : null;
    if (!sniffed) {
      throw new DicomError(
        meta.position >= bytes.length ? 'TRUNCATED' : 'MALFORMED',
        file,
        meta.position >= bytes.length
          ? 'file ends after the file meta information: no dataset'
          : 'no transfer syntax in the file meta information and the dataset encoding is not recognisable',
      );
    }
    uid = sniffed;
    encodingSource = 'guessed';
  }
  const syntax = findTransferSyntax(uid);
  if (uid === DEFLATED) {
    bytes = inflate(bytes, meta.position, file, options.maxInflatedBytes ?? DEFAULT_MAX_INFLATED_BYTES);
  }

  // Which element encoding to read the dataset with: the declared one, unless the bytes plainly disagree
  // (some writers declare explicit VR and write implicit, or the reverse).
  let readAs: Sniffed =
    syntax?.implicitVr === true ? IMPLICIT_LE : syntax?.bigEndian === true ? EXPLICIT_BE : EXPLICIT_LE;
  if (meta.position < bytes.length && !walksCleanly(bytes, meta.position, readAs)) {
    const sniffed = sniffEncoding(bytes, meta.position);
    if (sniffed) readAs = sniffed;
  }
  if (meta.position >= bytes.length) {
    throw new DicomError('TRUNCATED', file, 'file ends after the file meta information: no dataset');
  }

  const parser =
    readAs === EXPLICIT_BE ? dicomParser.bigEndianByteArrayParser : dicomParser.littleEndianByteArrayParser;
  const elements: Record<string, Element> = {};
  const dataSet = new dicomParser.DataSet(parser, bytes, elements);
  dataSet.warnings = [];
  let parseError: string | null = null;
  try {
    const stream = new dicomParser.ByteStream(parser, bytes, meta.position);
    if (readAs === IMPLICIT_LE) dicomParser.parseDicomDataSetImplicit(dataSet, stream, bytes.length);
    else dicomParser.parseDicomDataSetExplicit(dataSet, stream, bytes.length);
  } catch (err) {
    parseError = messageOf(err);
  }
  if (meta.dataSet) {
    for (const [tag, element] of Object.entries(meta.dataSet.elements)) {
      // Meta elements are always little endian: keep their parser with them.
      element.parser = dicomParser.littleEndianByteArrayParser;
      elements[tag] = element;
    }
  }
  if (Object.keys(elements).length === 0) {
    throw new DicomError(
      'NOT_DICOM',
      file,
      `not a DICOM file: no readable data elements (${parseError ?? 'empty'})`,
    );
  }
  return {
    file,
    dataSet,
    transferSyntaxUid: uid,
    transferSyntaxName: transferSyntaxName(uid),
    transferSyntax: syntax,
    bytes,
    parseError,
    encodingSource,
  };
}

/** True when an element's value lies wholly inside the byte array (the parser does not always check). */
export function elementInBounds(dataSet: DataSet, element: Element): boolean {
  return (
    element.dataOffset >= 0 &&
    element.length >= 0 &&
    element.dataOffset + element.length <= dataSet.byteArray.length
  );
}
