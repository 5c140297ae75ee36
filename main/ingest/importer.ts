/**
 * The import itself, process-agnostic (the `import` job runs it in its own process): scan the paths,
 * then per file hash, skip what is already there, decode (DICOM in the bounded decode pool, PNG/JPEG
 * here), store each frame once in the pixel cache with a thumbnail, detect the cone, read masks, and
 * record source, items, cone and annotations in the catalog.
 *
 * Consistency: catalog writes are batched per group of whole files in one transaction, after the cache
 * files they reference are written (atomically). A process killed midway leaves whole files or nothing;
 * running the same import again skips files already recorded (same path, size and modification time)
 * and carries on: that is how an interrupted import resumes, and why re-importing is idempotent.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Database } from 'better-sqlite3';
import { prepared } from '../catalog/statements';
import type { JobProgress } from '../api/contract';
import { redactPaths } from '../api/errors';
import type { Catalog } from '../catalog/db';
import { addAnnotation } from '../catalog/annotations';
import { saveCone } from '../catalog/cones';
import { clearImportError, recordImportError } from '../catalog/import-errors';
import { beginImport, endImport } from '../catalog/imports';
import { deleteSource, findSourceByHash, findSourceByPath, insertSource, type SourceFormat } from '../catalog/sources';
import { touchDataset } from '../catalog/datasets';
import { DecodePool, DicomError, loadOrCreateDeidKey, type DeidentifiedMetadata, type DicomTechnicalInfo, type UltrasoundRegion } from '../dicom';
import { rasterizeCone } from '../imaging/cone';
import { detectCone, type ConeDetection } from '../imaging/cone-detect';
import { rasterKey, writeCachedRaster, writeThumbnail, hasCachedRaster, cachePath, syncDirectories, type PendingDirectories } from '../imaging/pixel-cache';
import { assertValidRaster, type Raster } from '../imaging/raster';
import { makeThumbnail } from '../imaging/thumbnail';
import { fingerprint, isNearDuplicate } from './fingerprint';
import { binariseMask, readImage, sniffImageFormat } from './image-read';
import { scanPaths, type ScanEntry } from './scan';

export interface ImportOptions {
  datasetId: string;
  /** The import's id (the job id): errors and sources point to it. */
  importId: string;
  paths: string[];
  /** Import every n-th frame of cine loops. */
  stride: number;
  /** At most this many frames per cine loop (after stride). */
  maxFrames?: number;
  /** Organ id for every imported item. */
  organ?: string | null;
  /** Class label for every imported item (overrides class folders). */
  classLabel?: string | null;
  /** Per-file decode bounds (the DICOM decode child). */
  decodeTimeoutMs?: number;
  decodeMemoryMb?: number;
}

export interface ImportHooks {
  signal?: AbortSignal;
  progress?(progress: JobProgress): void;
  log?(level: 'debug' | 'info' | 'warn' | 'error', message: string): void;
}

export interface ImportFileError {
  /** The file, relative to the folder given. */
  file: string;
  code: string;
  cause: string;
}

export interface ImportSummary {
  datasetId: string;
  importId: string;
  /** Importable files found (DICOM, PNG, JPEG). */
  files: number;
  /** Files newly recorded in this run. */
  imported: number;
  /** Files already in the catalog, unchanged: skipped. */
  unchanged: number;
  /** Other files under the paths (not images): ignored. */
  ignored: number;
  items: number;
  frames: number;
  /** Cine loops among the imported files. */
  multiFrameFiles: number;
  duplicates: { files: number; frames: number };
  nearDuplicates: number;
  masks: number;
  layouts: string[];
  errors: number;
  /** The first errors (all of them are in the catalog's import errors). */
  errorList: ImportFileError[];
  seconds: number;
  imagesPerSecond: number;
  stopped: boolean;
}

const MAX_ERRORS_IN_SUMMARY = 100;
const BATCH_FILES = 64;
const BATCH_MS = 1000;
const CONE_SAMPLE_FRAMES = 16;

interface FrameRecord {
  frameIndex: number;
  width: number;
  height: number;
  channels: 1 | 3;
  bitDepth: 8 | 16;
  signed: boolean;
  pixelKey: string;
  nearDuplicateOfPrevious: boolean;
}

interface DecodedSource {
  format: SourceFormat;
  frames: FrameRecord[];
  totalFrames: number;
  cone: { detection: ConeDetection; maskKey: string } | null;
  maskKey: string | null;
  patientKey: string;
  uids: { study: string | null; series: string | null; sop: string | null };
  meta: Record<string, unknown>;
}

class FileFailure extends Error {
  constructor(
    readonly code: string,
    readonly reason: string,
  ) {
    super(reason);
  }
}

export class ImportStopped extends Error {
  constructor(readonly summary: ImportSummary) {
    super('import stopped');
    this.name = 'ImportStopped';
  }
}

function hashFileSync(file: string): string {
  const hash = crypto.createHash('sha256');
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    for (;;) {
      const n = fs.readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      hash.update(buf.subarray(0, n));
    }
  } finally {
    fs.closeSync(fd);
  }
  return hash.digest('hex');
}

/** Evenly spaced positions (0..count-1), at most `max` of them. */
function samplePositions(count: number, max: number): Set<number> {
  if (count <= max) return new Set(Array.from({ length: count }, (_, i) => i));
  return new Set(Array.from({ length: max }, (_, i) => Math.round((i * (count - 1)) / (max - 1))));
}

/** A mask or cone as a cached 8-bit grey raster, 255 inside and 0 outside. */
export function storeMask(dataDir: string, mask: Uint8Array, width: number, height: number, pendingDirs?: PendingDirectories): string {
  const data = new Uint8Array(mask.length);
  for (let i = 0; i < data.length; i++) data[i] = mask[i] ? 255 : 0;
  const raster = { width, height, channels: 1 as const, bitDepth: 8 as const, signed: false, data };
  return writeCachedRaster(dataDir, raster, rasterKey(raster), pendingDirs).key;
}

export async function runImport(catalog: Catalog, dataDir: string, options: ImportOptions, hooks: ImportHooks = {}): Promise<ImportSummary> {
  const db = catalog.db;
  const started = Date.now();
  const scan = scanPaths(options.paths);
  for (const missing of scan.missing) hooks.log?.('warn', `not found or not readable: ${path.basename(missing)}`);
  const summary: ImportSummary = {
    datasetId: options.datasetId,
    importId: options.importId,
    files: scan.entries.length,
    imported: 0,
    unchanged: 0,
    ignored: scan.skipped,
    items: 0,
    frames: 0,
    multiFrameFiles: 0,
    duplicates: { files: 0, frames: 0 },
    nearDuplicates: 0,
    masks: 0,
    layouts: scan.layouts,
    errors: 0,
    errorList: [],
    seconds: 0,
    imagesPerSecond: 0,
    stopped: false,
  };
  beginImport(db, options.importId, options.datasetId, options.paths.map((p) => path.resolve(p)), options);

  const deidKey = loadOrCreateDeidKey(dataDir);
  let pool: DecodePool | null = null;
  const batch: (() => void)[] = [];
  let batchFiles = 0;
  let lastFlush = Date.now();
  // Content hashes of files decoded in the uncommitted batch: a second copy is a duplicate too.
  const pendingHashes = new Set<string>();
  let lastProgress = 0;

  // Cache files are fsynced as written, their directories once per commit, before the rows naming them.
  const pendingDirs: PendingDirectories = new Set();
  const flush = (): void => {
    syncDirectories(pendingDirs);
    if (batch.length > 0) {
      const work = batch.splice(0);
      db.transaction(() => {
        for (const step of work) step();
        touchDataset(db, options.datasetId);
      })();
    }
    batchFiles = 0;
    pendingHashes.clear();
    lastFlush = Date.now();
  };

  const report = (done: number, force = false): void => {
    const now = Date.now();
    if (!force && now - lastProgress < 250) return;
    lastProgress = now;
    const elapsed = (now - started) / 1000;
    const rate = elapsed > 0 ? summary.frames / elapsed : null;
    const fileRate = elapsed > 0 ? done / elapsed : 0;
    hooks.progress?.({
      phase: 'importing',
      step: done,
      total: scan.entries.length,
      rate,
      rateUnit: 'images/s',
      etaSeconds: fileRate > 0 ? (scan.entries.length - done) / fileRate : null,
      metrics: {
        items: summary.items,
        frames: summary.frames,
        duplicates: summary.duplicates.files + summary.duplicates.frames,
        errors: summary.errors,
        unchanged: summary.unchanged,
      },
    });
  };

  const fail = (entry: ScanEntry, code: string, cause: string): void => {
    summary.errors++;
    const message = redactPaths(`${entry.relPath}: ${cause}`);
    if (summary.errorList.length < MAX_ERRORS_IN_SUMMARY) summary.errorList.push({ file: entry.relPath, code, cause: redactPaths(cause) });
    batch.push(() => recordImportError(db, { datasetId: options.datasetId, importId: options.importId, path: entry.path, relPath: entry.relPath, code, message }));
  };

  const getPool = (): DecodePool => (pool ??= new DecodePool({ timeoutMs: options.decodeTimeoutMs ?? 60_000, maxOldSpaceMb: options.decodeMemoryMb ?? 1024 }));

  try {
    report(0, true);
    for (let i = 0; i < scan.entries.length; i++) {
      if (hooks.signal?.aborted) break;
      const entry = scan.entries[i]!;
      try {
        await importEntry(entry);
      } catch (err) {
        if (err instanceof ImportAborted) break;
        if (err instanceof FileFailure) fail(entry, err.code, err.reason);
        else if (err instanceof DicomError) fail(entry, err.code, err.reason);
        else fail(entry, 'IMPORT_FAILED', err instanceof Error ? err.message : String(err));
      }
      batchFiles++;
      if (batchFiles >= BATCH_FILES || Date.now() - lastFlush >= BATCH_MS) flush();
      report(i + 1);
      // Let the event loop turn: a cancel or shutdown message from the app must get through.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    flush();
  } finally {
    await (pool as DecodePool | null)?.close();
  }

  // Fresh planner statistics: the item queries pick their index by them (a path search on 100 000 items
  // takes 4 ms with them, 60 without).
  if (summary.items > 0) db.exec('ANALYZE');
  summary.seconds = Math.round((Date.now() - started) / 100) / 10;
  summary.imagesPerSecond = summary.seconds > 0 ? Math.round((summary.frames / summary.seconds) * 10) / 10 : summary.frames;
  summary.stopped = hooks.signal?.aborted ?? false;
  endImport(db, options.importId, summary.stopped ? 'stopped' : 'done', summary);
  report(summary.stopped ? summary.files : scan.entries.length, true);
  if (summary.errors > 0) hooks.log?.('warn', `${summary.errors} file(s) could not be imported; they are listed in the import errors`);
  hooks.log?.('info', `import: ${summary.items} item(s) from ${summary.imported} file(s), ${summary.unchanged} unchanged, ${summary.errors} error(s)`);
  if (summary.stopped) throw new ImportStopped(summary);
  return summary;

  async function importEntry(entry: ScanEntry): Promise<void> {
    let stat: fs.Stats;
    try {
      stat = fs.statSync(entry.path);
    } catch (err) {
      throw new FileFailure('IO', `cannot read the file (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    const mtimeMs = Math.floor(stat.mtimeMs);
    const existing = findSourceByPath(db, options.datasetId, entry.path);
    if (existing && existing.size === stat.size && existing.mtimeMs === mtimeMs) {
      summary.unchanged++;
      return;
    }
    let bytes: Buffer | null = null;
    let hash: string;
    try {
      if (entry.kind === 'image') {
        bytes = fs.readFileSync(entry.path);
        hash = crypto.createHash('sha256').update(bytes).digest('hex');
      } else hash = hashFileSync(entry.path);
    } catch (err) {
      throw new FileFailure('IO', `cannot read the file (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    if (existing && existing.contentHash === hash) {
      // Same content, new timestamp (copied, touched): nothing to decode again.
      summary.unchanged++;
      batch.push(() => prepared(db, `UPDATE sources SET mtime_ms = ?, size = ? WHERE id = ?`).run(mtimeMs, stat.size, existing.id));
      return;
    }
    const format: SourceFormat = entry.kind === 'dicom' ? 'dicom' : sniffImageFormat(bytes!) === 'jpeg' ? 'jpeg' : 'png';
    const original = pendingHashes.has(hash) ? true : findSourceByHash(db, options.datasetId, hash);
    if (original && (original === true || original.id !== existing?.id)) {
      summary.duplicates.files++;
      batch.push(() => {
        const first = findSourceByHash(db, options.datasetId, hash);
        if (existing) deleteSource(db, existing.id);
        clearImportError(db, options.datasetId, entry.path);
        insertSource(db, {
          datasetId: options.datasetId,
          path: entry.path,
          relPath: entry.relPath,
          format,
          contentHash: hash,
          size: stat.size,
          mtimeMs,
          frames: first?.frames ?? 0,
          importedFrames: 0,
          duplicateOf: first?.id ?? null,
          patientKey: first?.patientKey ?? null,
          studyUid: first?.studyUid ?? null,
          seriesUid: first?.seriesUid ?? null,
          sopUid: first?.sopUid ?? null,
          meta: { duplicateFile: true },
          importId: options.importId,
        });
      });
      return;
    }
    const decoded = entry.kind === 'dicom' ? await decodeDicomEntry(entry) : await decodeImageEntry(entry, bytes!, hash);
    pendingHashes.add(hash);
    summary.imported++;
    summary.frames += decoded.frames.length;
    if (decoded.totalFrames > 1) summary.multiFrameFiles++;
    if (decoded.maskKey) summary.masks++;
    batch.push(() => commitSource(db, entry, { hash, size: stat.size, mtimeMs, existingId: existing?.id ?? null }, decoded));
  }

  function commitSource(db: Database, entry: ScanEntry, file: { hash: string; size: number; mtimeMs: number; existingId: number | null }, d: DecodedSource): void {
    if (file.existingId !== null) deleteSource(db, file.existingId);
    clearImportError(db, options.datasetId, entry.path);
    const sourceId = insertSource(db, {
      datasetId: options.datasetId,
      path: entry.path,
      relPath: entry.relPath,
      format: d.format,
      contentHash: file.hash,
      size: file.size,
      mtimeMs: file.mtimeMs,
      frames: d.totalFrames,
      importedFrames: d.frames.length,
      duplicateOf: null,
      patientKey: d.patientKey,
      studyUid: d.uids.study,
      seriesUid: d.uids.series,
      sopUid: d.uids.sop,
      meta: d.meta,
      importId: options.importId,
    });
    const findPixels = prepared(db, `SELECT id FROM items WHERE dataset_id = ? AND pixel_key = ? ORDER BY id LIMIT 1`);
    const insertItem = prepared(db, 
      `INSERT INTO items (dataset_id, source_id, frame_index, width, height, channels, bit_depth, signed, pixel_key, patient_key,
         organ, class_label, folder_split, duplicate_of, near_duplicate_of, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const now = new Date().toISOString();
    let previous: number | null = null;
    for (const f of d.frames) {
      const same = findPixels.get(options.datasetId, f.pixelKey) as { id: number } | undefined;
      if (same) summary.duplicates.frames++;
      const nearDup = !same && f.nearDuplicateOfPrevious && previous !== null ? previous : null;
      if (nearDup !== null) summary.nearDuplicates++;
      const info = insertItem.run(
        options.datasetId,
        sourceId,
        f.frameIndex,
        f.width,
        f.height,
        f.channels,
        f.bitDepth,
        f.signed ? 1 : 0,
        f.pixelKey,
        d.patientKey,
        options.organ ?? null,
        options.classLabel ?? entry.classLabel,
        entry.folderSplit,
        same?.id ?? null,
        nearDup,
        now,
      );
      const itemId = Number(info.lastInsertRowid);
      summary.items++;
      previous = itemId;
      if (d.cone) {
        saveCone(db, { itemId, origin: 'auto', geometry: d.cone.detection.geometry, method: d.cone.detection.method, confidence: d.cone.detection.confidence, maskKey: d.cone.maskKey });
      }
      if (d.maskKey) addAnnotation(db, { itemId, origin: 'ground_truth', maskKey: d.maskKey });
    }
  }

  function storeFrame(raster: Raster, frameIndex: number, previous: Uint8Array | null): { record: FrameRecord; print: Uint8Array } {
    assertValidRaster(raster);
    const key = rasterKey(raster);
    if (!hasCachedRaster(dataDir, key)) writeCachedRaster(dataDir, raster, key, pendingDirs);
    if (!fs.existsSync(cachePath(dataDir, key, 'thumbs'))) writeThumbnail(dataDir, key, makeThumbnail(raster));
    const print = fingerprint(raster);
    return {
      record: {
        frameIndex,
        width: raster.width,
        height: raster.height,
        channels: raster.channels,
        bitDepth: raster.bitDepth,
        signed: raster.signed,
        pixelKey: key,
        nearDuplicateOfPrevious: previous !== null && isNearDuplicate(previous, print),
      },
      print,
    };
  }

  function coneFor(frames: Raster[], regions: UltrasoundRegion[]): DecodedSource['cone'] {
    const first = frames[0];
    if (!first) return null;
    const detection = detectCone(frames, { regions });
    const mask = rasterizeCone(detection.geometry, first.width, first.height);
    return { detection, maskKey: storeMask(dataDir, mask, first.width, first.height, pendingDirs) };
  }

  async function decodeDicomEntry(entry: ScanEntry): Promise<DecodedSource> {
    const stream = await getPool().stream(entry.path, { stride: options.stride, maxFrames: options.maxFrames, deidKey });
    const keep = samplePositions(stream.frameCount, CONE_SAMPLE_FRAMES);
    const samples: Raster[] = [];
    const frames: FrameRecord[] = [];
    let previous: Uint8Array | null = null;
    let position = 0;
    for await (const frame of stream.frames) {
      if (hooks.signal?.aborted) throw new ImportAborted();
      const { record, print } = storeFrame(frame.raster, frame.index, previous);
      frames.push(record);
      previous = print;
      if (keep.has(position) && frame.raster.width === frames[0]!.width && frame.raster.height === frames[0]!.height) samples.push(frame.raster);
      position++;
    }
    if (frames.length === 0) throw new FileFailure('NO_PIXEL_DATA', 'no frame could be decoded');
    const deid = stream.deidentified;
    return {
      format: 'dicom',
      frames,
      totalFrames: stream.info.numberOfFrames,
      cone: coneFor(samples, stream.info.ultrasoundRegions),
      maskKey: null,
      patientKey: deid?.patientKey ?? `file-${crypto.createHash('sha256').update(entry.path).digest('hex').slice(0, 32)}`,
      uids: { study: deid?.studyUid ?? null, series: deid?.seriesUid ?? null, sop: deid?.sopInstanceUid ?? null },
      meta: dicomMeta(stream.info, deid),
    };
  }

  async function decodeImageEntry(entry: ScanEntry, bytes: Buffer, hash: string): Promise<DecodedSource> {
    let raster: Raster;
    try {
      raster = await readImage(bytes);
    } catch (err) {
      throw new FileFailure('DECODE_FAILED', `not a readable PNG or JPEG image (${err instanceof Error ? err.message : String(err)})`);
    }
    const { record } = storeFrame(raster, 0, null);
    let maskKey: string | null = null;
    if (entry.maskPaths.length > 0) {
      const union = new Uint8Array(raster.width * raster.height);
      for (const maskPath of entry.maskPaths) {
        const name = path.basename(maskPath);
        let mask: Raster;
        try {
          mask = await readImage(fs.readFileSync(maskPath));
        } catch (err) {
          throw new FileFailure('MASK_UNREADABLE', `its mask ${name} could not be read (${err instanceof Error ? err.message : String(err)})`);
        }
        if (mask.width !== raster.width || mask.height !== raster.height) {
          throw new FileFailure('MASK_SIZE_MISMATCH', `its mask ${name} is ${mask.width}x${mask.height}, the image ${raster.width}x${raster.height}`);
        }
        const bin = binariseMask(mask);
        for (let p = 0; p < union.length; p++) union[p] = union[p]! | bin[p]!;
      }
      maskKey = storeMask(dataDir, union, raster.width, raster.height, pendingDirs);
    }
    return {
      format: sniffImageFormat(bytes) === 'jpeg' ? 'jpeg' : 'png',
      frames: [record],
      totalFrames: 1,
      cone: coneFor([raster], []),
      maskKey,
      // Image files carry no patient identity: each file is its own group for splitting.
      patientKey: `file-${hash.slice(0, 32)}`,
      uids: { study: null, series: null, sop: null },
      meta: {
        width: raster.width,
        height: raster.height,
        channels: raster.channels,
        bitDepth: raster.bitDepth,
        masks: entry.maskPaths.map((m) => path.basename(m)),
      },
    };
  }
}

class ImportAborted extends Error {}

/** What the catalog keeps of a DICOM file: technical facts and the de-identified attributes only. */
function dicomMeta(info: DicomTechnicalInfo, deid: DeidentifiedMetadata | undefined): Record<string, unknown> {
  return {
    transferSyntax: info.transferSyntaxName,
    transferSyntaxUid: info.transferSyntaxUid,
    photometric: info.photometric,
    rows: info.rows,
    columns: info.columns,
    frames: info.numberOfFrames,
    bitsStored: info.bitsStored,
    lossyCompression: info.lossyCompression,
    modality: info.modality,
    pixelSpacingMm: info.pixelSpacingMm,
    frameTimeMs: info.frameTimeMs,
    ultrasoundRegions: info.ultrasoundRegions.length,
    ...(deid
      ? {
          attributes: deid.attributes,
          patientKeySource: deid.patientKeySource,
          patientIdentityRemoved: deid.patientIdentityRemoved,
          deidentificationMethod: deid.deidentificationMethod,
        }
      : {}),
  };
}

