import type { DicomErrorCode } from './errors';
import type { DecodedFrame, DecodeOptions, DeidentifiedMetadata, DicomTechnicalInfo } from './types';

/** Messages between DecodePool and its child (advanced serialization: typed arrays travel as they are). */
export type ToDecodeWorker =
  | { type: 'decode'; id: number; path: string; name: string; options: DecodeOptions; streaming: boolean }
  /** Streaming: the consumer took the last frame, send the next one. */
  | { type: 'next'; id: number }
  /** Streaming: the consumer stopped early. */
  | { type: 'cancel'; id: number };

export type FromDecodeWorker =
  | { type: 'ready' }
  | {
      type: 'info';
      id: number;
      info: DicomTechnicalInfo;
      deidentified?: DeidentifiedMetadata;
      frameCount: number;
    }
  | { type: 'frame'; id: number; frame: DecodedFrame }
  | { type: 'done'; id: number }
  | { type: 'error'; id: number; error: { code: DicomErrorCode; file: string; reason: string } };
