/**
 * Public data types of the DICOM library. Everything here is plain data (structured-clone safe), so the
 * same objects come back from the in-process decoder and from the bounded child-process pool.
 */

/** Decoded pixels of one frame, row-major, samples interleaved (RGBRGB...) when channels is 3. */
export interface Raster {
  width: number;
  height: number;
  channels: 1 | 3;
  /** 8 when the stored values fit a byte (BitsAllocated 8, and every colour output), 16 otherwise. */
  bitDepth: 8 | 16;
  /** True only for 16-bit monochrome with PixelRepresentation 1 (data is then an Int16Array). */
  signed: boolean;
  data: Uint8Array | Uint16Array | Int16Array;
}

/** One decoded frame with its 0-based index in the file (cine loops keep their original numbering). */
export interface DecodedFrame {
  index: number;
  raster: Raster;
}

/** One item of the Sequence of Ultrasound Regions (0018,6011), as plain numbers plus readable names. */
export interface UltrasoundRegion {
  /** RegionSpatialFormat (0018,6012): 0 none, 1 2D, 2 M-mode, 3 spectral, 4 waveform, 5 graphics. */
  spatialFormat: number;
  spatialFormatName: string;
  /** RegionDataType (0018,6014): 1 tissue, 2 colour flow, 3 PW, 4 CW spectral ... */
  dataType: number;
  dataTypeName: string;
  /** RegionFlags (0018,6016), bit field. */
  flags: number;
  /** Region bounds in pixels, inclusive (0018,6018/601A/601C/601E). */
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  /** PhysicalUnitsX/YDirection (0018,6024/6026): 3 = cm, 4 = s, 7 = cm/s ... */
  physicalUnitsX: number;
  physicalUnitsXName: string;
  physicalUnitsY: number;
  physicalUnitsYName: string;
  /** PhysicalDeltaX/Y (0018,602C/602E): physical size of one pixel in those units. */
  physicalDeltaX: number | null;
  physicalDeltaY: number | null;
  /** ReferencePixelX0/Y0 (0018,6020/6022), when present. */
  referencePixelX0: number | null;
  referencePixelY0: number | null;
  /** ReferencePixelPhysicalValueX/Y (0018,6028/602A), when present. */
  referencePhysicalValueX: number | null;
  referencePhysicalValueY: number | null;
  /** TransducerFrequency (0018,6030) in kHz, when present. */
  transducerFrequencyKHz: number | null;
}

/** Technical description of the image; carries no patient data, so it is safe to log and store. */
export interface DicomTechnicalInfo {
  transferSyntaxUid: string;
  transferSyntaxName: string;
  /** PhotometricInterpretation as stored in the file (e.g. "YBR_FULL_422", "PALETTE COLOR"). */
  photometric: string;
  /** What the decoded rasters hold: MONOCHROME2 (MONOCHROME1 is inverted to it) or RGB. */
  outputPhotometric: 'MONOCHROME2' | 'RGB';
  rows: number;
  columns: number;
  numberOfFrames: number;
  samplesPerPixel: number;
  bitsAllocated: number;
  bitsStored: number;
  highBit: number;
  pixelRepresentation: 0 | 1;
  planarConfiguration: 0 | 1 | null;
  modality: string | null;
  sopClassUid: string | null;
  /** PixelSpacing (0028,0030) in mm as [row spacing, column spacing], or null. */
  pixelSpacingMm: [number, number] | null;
  /** FrameTime (0018,1063) in ms, or null. */
  frameTimeMs: number | null;
  /** CineRate (0018,0040) in frames per second, or null. */
  cineRate: number | null;
  rescaleSlope: number | null;
  rescaleIntercept: number | null;
  ultrasoundRegions: UltrasoundRegion[];
  /** True when the transfer syntax is lossy (JPEG baseline/extended, JPEG-LS near-lossless, J2K lossy...). */
  lossyCompression: boolean;
}

export interface DecodeOptions {
  /** Decode every n-th frame of a cine loop (1 = every frame). Default 1. */
  stride?: number;
  /** Stop after this many decoded frames (applied after stride). Default: no limit. */
  maxFrames?: number;
  /** Decode exactly these 0-based frame indices (overrides stride and maxFrames). */
  frameIndices?: number[];
  /** Parse the header only: info (and de-identified metadata when deidKey is set), no pixels. */
  headerOnly?: boolean;
  /** When given (32 bytes from loadOrCreateDeidKey), the result carries de-identified metadata. */
  deidKey?: Uint8Array;
  /** Refuse images whose decoded frames would exceed this many bytes in total. Default 1 GiB. */
  maxDecodedBytes?: number;
  /** DecodePool only: this file's time limit in ms, instead of the pool's. */
  timeoutMs?: number;
}

/** De-identified metadata (PS3.15 Annex E basic profile), safe to store in the catalog. */
export interface DeidentifiedMetadata {
  /** Pseudonymous patient key: HMAC-SHA256(key, PatientID \0 Issuer), hex, 32 chars. */
  patientKey: string;
  /** How patientKey was derived: from PatientID, from the study UID (no PatientID), or from the file bytes. */
  patientKeySource: 'patient-id' | 'study-uid' | 'file-hash';
  studyUid: string | null;
  seriesUid: string | null;
  sopInstanceUid: string | null;
  /** Kept attributes by keyword (Modality, Manufacturer, Rows...): strings, numbers or arrays of them. */
  attributes: Record<string, string | number | (string | number)[]>;
  ultrasoundRegions: UltrasoundRegion[];
  /** Keywords of attributes that were present and removed or replaced (never their values). */
  removed: string[];
  /** Values for (0012,0062)/(0012,0063): what was done. */
  patientIdentityRemoved: 'YES';
  deidentificationMethod: string;
}

export interface DecodedDicom {
  /** The file name given by the caller (used in error messages). */
  file: string;
  info: DicomTechnicalInfo;
  frames: DecodedFrame[];
  deidentified?: DeidentifiedMetadata;
}

export interface DecodePoolOptions {
  /** Per-file time limit in ms; the child is killed and restarted past it. Default 60 000. */
  timeoutMs?: number;
  /** V8 old-generation heap limit of each decoder, in MB. Default 2048. */
  maxOldSpaceMb?: number;
  /** Number of decoders (each decodes one file at a time). Default 1. */
  size?: number;
  /** Override the decoder entry (file + execArgv); defaults to pool-worker.ts under tsx or the bundle. */
  workerEntry?: { file: string; execArgv: string[] };
  /**
   * 'process' (child_process.fork, `--max-old-space-size`) or 'thread' (worker_threads with
   * `resourceLimits.maxOldGenerationSizeMb`, terminate() on timeout). Default: USFM_DECODE_ISOLATION when
   * set, else 'thread' inside Electron (fork would start the Electron binary there) and 'process' in Node.
   */
  isolation?: 'process' | 'thread';
}
