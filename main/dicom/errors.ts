/** Why a file could not be read or decoded; `code` is stable, `message` is plain words with the file name. */
export type DicomErrorCode =
  | 'IO'
  | 'NOT_DICOM'
  | 'TRUNCATED'
  | 'MALFORMED'
  | 'NO_PIXEL_DATA'
  | 'UNSUPPORTED_TRANSFER_SYNTAX'
  | 'UNSUPPORTED_IMAGE'
  | 'TOO_LARGE'
  | 'CODEC_FAILED'
  | 'TIMEOUT'
  | 'WORKER_CRASHED';

/**
 * The only error type the library throws. Messages never carry patient data: only the file name (as given
 * by the caller), tag numbers, transfer syntax UIDs and codec messages.
 */
export class DicomError extends Error {
  override readonly name = 'DicomError';
  constructor(
    readonly code: DicomErrorCode,
    readonly file: string,
    readonly reason: string,
  ) {
    super(`${file}: ${reason}`);
  }

  /** Plain-data form for IPC. */
  toJSON(): { code: DicomErrorCode; file: string; reason: string } {
    return { code: this.code, file: this.file, reason: this.reason };
  }

  static isDicomError(value: unknown): value is DicomError {
    return value instanceof DicomError;
  }
}

/** Wrap anything thrown by a parser or codec into a DicomError for `file`. */
export function asDicomError(
  err: unknown,
  file: string,
  fallback: DicomErrorCode,
  context: string,
): DicomError {
  if (err instanceof DicomError) return err;
  const detail = err instanceof Error ? err.message : typeof err === 'string' ? err : String(err);
  if (err instanceof RangeError && /offset|bounds|length/i.test(detail)) {
    return new DicomError('TRUNCATED', file, `${context}: data ends early (${detail})`);
  }
  return new DicomError(fallback, file, `${context}: ${detail}`);
}
