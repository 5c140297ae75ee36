/**
 * DICOM library: parse (dicom-parser), decode pixel data of every transfer syntax that ultrasound systems
 * and PACS write, describe the image technically, and de-identify metadata (PS3.15 Annex E).
 *
 * Typical use by the import job (bounded: a broken or hostile file cannot crash or hang the caller; child
 * processes in Node, worker threads inside Electron or with USFM_DECODE_ISOLATION=thread):
 *
 *   const pool = new DecodePool({ timeoutMs: 60_000, maxOldSpaceMb: 2048 });
 *   const key = loadOrCreateDeidKey(dataDir);
 *   try {
 *     const result = await pool.decodeFile('/path/a.dcm', { stride: 2, deidKey: key });
 *     // result.info (technical), result.frames[i] = { index, raster }, result.deidentified (catalog-safe)
 *   } catch (err) {
 *     if (err instanceof DicomError) log(err.message); // "a.dcm: truncated pixel data ..."
 *   } finally { await pool.close(); }
 *
 * Frame by frame (keeps memory flat for long cine loops):
 *   const { info, deidentified, frames } = await pool.stream(path, { stride: 4, deidKey: key });
 *   for await (const frame of frames) { ... }   // or pool.frames(path, options) without the header
 *
 * In-process (tests, the pool's own child, small trusted inputs):
 *   const result = await decodeDicom(bytes, 'a.dcm', { frameIndices: [0] });
 *   const image = openDicom(bytes, 'a.dcm'); image.info; await image.decodeFrame(3);
 *
 * Output rasters: row-major, interleaved RGB when channels is 3. MONOCHROME1 is inverted to MONOCHROME2
 * semantics (higher = brighter); YBR_*, palette colour and planar RGB come out as interleaved RGB 8-bit.
 * Every failure is a `DicomError` with a stable `code` and a message naming the file and the cause.
 */
export type {
  Raster,
  DecodedFrame,
  DecodedDicom,
  DecodeOptions,
  DecodePoolOptions,
  DicomTechnicalInfo,
  UltrasoundRegion,
  DeidentifiedMetadata,
} from './types';
export { DicomError, type DicomErrorCode } from './errors';
export {
  TRANSFER_SYNTAXES,
  transferSyntaxName,
  findTransferSyntax,
  type TransferSyntax,
} from './transfer-syntax';
export { decodeDicom, openDicom, readDicomInfo, type DicomImage } from './decode';
export {
  DecodePool,
  decodeFileBounded,
  closeDefaultDecodePool,
  defaultDecodeIsolation,
  type DecodeStream,
  type DecodeIsolation,
} from './pool';
export {
  deidentifyDicom,
  deidentifyDataSet,
  loadOrCreateDeidKey,
  pseudonymousPatientKey,
  remapUid,
  DEID_KEY_FILE,
} from './deidentify';
