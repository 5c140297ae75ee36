/** Transfer syntaxes the decoder knows, with the codec family that handles each. */
export type CodecFamily =
  | 'native'
  | 'deflate'
  | 'rle'
  | 'jpeg-baseline'
  | 'jpeg-extended'
  | 'jpeg-lossless'
  | 'jpeg-ls'
  | 'jpeg2000'
  | 'htj2k';

export interface TransferSyntax {
  uid: string;
  name: string;
  family: CodecFamily;
  lossy: boolean;
  bigEndian?: boolean;
  implicitVr?: boolean;
}

const LIST: TransferSyntax[] = [
  {
    uid: '1.2.840.10008.1.2',
    name: 'Implicit VR Little Endian',
    family: 'native',
    lossy: false,
    implicitVr: true,
  },
  { uid: '1.2.840.10008.1.2.1', name: 'Explicit VR Little Endian', family: 'native', lossy: false },
  {
    uid: '1.2.840.10008.1.2.2',
    name: 'Explicit VR Big Endian',
    family: 'native',
    lossy: false,
    bigEndian: true,
  },
  {
    uid: '1.2.840.10008.1.2.1.99',
    name: 'Deflated Explicit VR Little Endian',
    family: 'deflate',
    lossy: false,
  },
  { uid: '1.2.840.10008.1.2.5', name: 'RLE Lossless', family: 'rle', lossy: false },
  { uid: '1.2.840.10008.1.2.4.50', name: 'JPEG Baseline (Process 1)', family: 'jpeg-baseline', lossy: true },
  {
    uid: '1.2.840.10008.1.2.4.51',
    name: 'JPEG Extended (Process 2 and 4)',
    family: 'jpeg-extended',
    lossy: true,
  },
  {
    uid: '1.2.840.10008.1.2.4.57',
    name: 'JPEG Lossless, Non-Hierarchical (Process 14)',
    family: 'jpeg-lossless',
    lossy: false,
  },
  {
    uid: '1.2.840.10008.1.2.4.70',
    name: 'JPEG Lossless, Non-Hierarchical, First-Order Prediction (Process 14 [Selection Value 1])',
    family: 'jpeg-lossless',
    lossy: false,
  },
  { uid: '1.2.840.10008.1.2.4.80', name: 'JPEG-LS Lossless', family: 'jpeg-ls', lossy: false },
  { uid: '1.2.840.10008.1.2.4.81', name: 'JPEG-LS Near-Lossless', family: 'jpeg-ls', lossy: true },
  { uid: '1.2.840.10008.1.2.4.90', name: 'JPEG 2000 (Lossless Only)', family: 'jpeg2000', lossy: false },
  { uid: '1.2.840.10008.1.2.4.91', name: 'JPEG 2000', family: 'jpeg2000', lossy: true },
  { uid: '1.2.840.10008.1.2.4.201', name: 'HTJ2K (Lossless Only)', family: 'htj2k', lossy: false },
  {
    uid: '1.2.840.10008.1.2.4.202',
    name: 'HTJ2K with RPCL Options (Lossless Only)',
    family: 'htj2k',
    lossy: false,
  },
  { uid: '1.2.840.10008.1.2.4.203', name: 'HTJ2K', family: 'htj2k', lossy: true },
];

/** Syntaxes we recognise by name but cannot decode (video, JPEG XL...), for clearer errors. */
const KNOWN_UNSUPPORTED: Record<string, string> = {
  '1.2.840.10008.1.2.4.100': 'MPEG2 Main Profile @ Main Level',
  '1.2.840.10008.1.2.4.101': 'MPEG2 Main Profile @ High Level',
  '1.2.840.10008.1.2.4.102': 'MPEG-4 AVC/H.264 High Profile',
  '1.2.840.10008.1.2.4.103': 'MPEG-4 AVC/H.264 BD-compatible High Profile',
  '1.2.840.10008.1.2.4.104': 'MPEG-4 AVC/H.264 High Profile For 2D Video',
  '1.2.840.10008.1.2.4.105': 'MPEG-4 AVC/H.264 High Profile For 3D Video',
  '1.2.840.10008.1.2.4.106': 'MPEG-4 AVC/H.264 Stereo High Profile',
  '1.2.840.10008.1.2.4.107': 'HEVC/H.265 Main Profile',
  '1.2.840.10008.1.2.4.108': 'HEVC/H.265 Main 10 Profile',
  '1.2.840.10008.1.2.4.110': 'JPEG XL Lossless',
  '1.2.840.10008.1.2.4.111': 'JPEG XL JPEG Recompression',
  '1.2.840.10008.1.2.4.112': 'JPEG XL',
  '1.2.840.10008.1.2.4.92': 'JPEG 2000 Part 2 Multi-component (Lossless Only)',
  '1.2.840.10008.1.2.4.93': 'JPEG 2000 Part 2 Multi-component',
  '1.2.840.10008.1.2.4.94': 'JPIP Referenced',
  '1.2.840.10008.1.2.4.95': 'JPIP Referenced Deflate',
};

export const TRANSFER_SYNTAXES: ReadonlyMap<string, TransferSyntax> = new Map(LIST.map((t) => [t.uid, t]));

export function findTransferSyntax(uid: string): TransferSyntax | undefined {
  return TRANSFER_SYNTAXES.get(uid);
}

/** Readable name of any transfer syntax UID ("unknown" when we have never heard of it). */
export function transferSyntaxName(uid: string): string {
  return TRANSFER_SYNTAXES.get(uid)?.name ?? KNOWN_UNSUPPORTED[uid] ?? 'unknown';
}
