import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { DataSet } from './dicom-parser-lib';
import { dicomParser } from './dicom-parser-lib';
import { KEPT_ATTRIBUTES, PROFILE_BY_TAG } from './deid-profile';
import { asDicomError } from './errors';
import { parseUltrasoundRegions, str } from './info';
import { parseDicomBytes } from './parse';
import type { DeidentifiedMetadata, UltrasoundRegion } from './types';

/** The key file's name inside the data directory. */
export const DEID_KEY_FILE = 'deid.key';
const KEY_BYTES = 32;
const METHOD = 'DICOM PS3.15 E.1 Basic Application Level Confidentiality Profile (113100); keyed pseudonyms';

/**
 * Load the de-identification key from `<dataDir>/deid.key`, creating it on first use: 32 random bytes,
 * mode 0600, published with link() so two processes starting at once agree on one key (the loser reads
 * the winner's). Losing this key means new imports no longer group with old ones, so it is never rewritten.
 */
export function loadOrCreateDeidKey(dataDir: string): Buffer {
  const target = path.join(dataDir, DEID_KEY_FILE);
  const existing = readKey(target);
  if (existing) return existing;
  fs.mkdirSync(dataDir, { recursive: true });
  const tmp = path.join(
    dataDir,
    `.${DEID_KEY_FILE}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`,
  );
  const key = crypto.randomBytes(KEY_BYTES);
  const fd = fs.openSync(tmp, 'wx', 0o600);
  try {
    fs.writeSync(fd, key);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  try {
    fs.linkSync(tmp, target); // fails with EEXIST when another process won the race
    return key;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    const winner = readKey(target);
    if (!winner) throw new Error(`${DEID_KEY_FILE} exists but is not a ${KEY_BYTES}-byte key`);
    return winner;
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

function readKey(file: string): Buffer | null {
  let data: Buffer;
  try {
    data = fs.readFileSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  if (data.length !== KEY_BYTES)
    throw new Error(`${DEID_KEY_FILE} is ${data.length} bytes, expected ${KEY_BYTES}`);
  return data;
}

function hmac(key: Uint8Array, message: string | Uint8Array): Buffer {
  return crypto.createHmac('sha256', key).update(message).digest();
}

/** Pseudonymous patient key: HMAC-SHA256(key, PatientID + '\0' + IssuerOfPatientID), first 32 hex digits. */
export function pseudonymousPatientKey(key: Uint8Array, patientId: string, issuerOfPatientId = ''): string {
  return hmac(key, `${patientId}\0${issuerOfPatientId}`).toString('hex').slice(0, 32);
}

/**
 * Replace a UID by `2.25.<decimal of a 128-bit keyed hash>` (PS3.5 B.2 UUID-derived form): the same input
 * and key always give the same UID, so studies and series stay linked without revealing the original.
 */
export function remapUid(key: Uint8Array, uid: string): string {
  const digest = hmac(key, `uid\0${uid}`).subarray(0, 16);
  return `2.25.${BigInt(`0x${digest.toString('hex')}`).toString(10)}`;
}

function keptValue(
  dataSet: DataSet,
  tag: string,
  kind: (typeof KEPT_ATTRIBUTES)[number]['kind'],
): string | number | (string | number)[] | null {
  const element = dataSet.elements[tag];
  if (!element || element.length === 0 || element.dataOffset + element.length > dataSet.byteArray.length)
    return null;
  try {
    switch (kind) {
      case 'string':
        return str(dataSet, tag);
      case 'strings': {
        const count = dataSet.numStringValues(tag) ?? 0;
        const values: string[] = [];
        for (let i = 0; i < count; i++) values.push(str(dataSet, tag, i) ?? '');
        return values.length === 0 ? null : values;
      }
      case 'us': {
        const v = dataSet.uint16(tag);
        return v === undefined ? null : v;
      }
      case 'is': {
        const v = dataSet.intString(tag);
        return v === undefined || !Number.isFinite(v) ? null : v;
      }
      case 'ds': {
        const v = dataSet.floatString(tag);
        return v === undefined || !Number.isFinite(v) ? null : v;
      }
      case 'dsList': {
        const count = dataSet.numStringValues(tag) ?? 0;
        const values: number[] = [];
        for (let i = 0; i < count; i++) {
          const v = dataSet.floatString(tag, i);
          if (v !== undefined && Number.isFinite(v)) values.push(v);
        }
        return values.length === 0 ? null : values;
      }
    }
  } catch {
    return null;
  }
}

export interface DeidentifyOptions {
  /** The file bytes: the patient key falls back to their hash when there is neither PatientID nor study UID. */
  fileBytes?: Uint8Array;
  /** Already parsed regions (saves parsing them twice). */
  ultrasoundRegions?: UltrasoundRegion[];
}

/** De-identified metadata of a parsed dataset: an allow-list of technical attributes plus keyed pseudonyms. */
export function deidentifyDataSet(
  dataSet: DataSet,
  key: Uint8Array,
  options: DeidentifyOptions = {},
): DeidentifiedMetadata {
  if (key.length < 16) throw new Error('de-identification key must be at least 16 bytes');
  const patientId = str(dataSet, 'x00100020');
  const issuer = str(dataSet, 'x00100021') ?? '';
  const studyUid = str(dataSet, 'x0020000d');
  const seriesUid = str(dataSet, 'x0020000e');
  const sopUid = str(dataSet, 'x00080018') ?? str(dataSet, 'x00020003');

  let patientKey: string;
  let patientKeySource: DeidentifiedMetadata['patientKeySource'];
  if (patientId) {
    patientKey = pseudonymousPatientKey(key, patientId, issuer);
    patientKeySource = 'patient-id';
  } else if (studyUid) {
    patientKey = hmac(key, `study\0${studyUid}`).toString('hex').slice(0, 32);
    patientKeySource = 'study-uid';
  } else {
    const fileHash = crypto
      .createHash('sha256')
      .update(options.fileBytes ?? dataSet.byteArray)
      .digest('hex');
    patientKey = hmac(key, `file\0${fileHash}`).toString('hex').slice(0, 32);
    patientKeySource = 'file-hash';
  }

  const attributes: DeidentifiedMetadata['attributes'] = {};
  for (const kept of KEPT_ATTRIBUTES) {
    const value = keptValue(dataSet, kept.tag, kept.kind);
    if (value !== null) attributes[kept.keyword] = value;
  }

  const removed = new Set<string>();
  let privateCount = 0;
  for (const tag of Object.keys(dataSet.elements)) {
    const entry = PROFILE_BY_TAG.get(tag);
    if (entry) removed.add(entry.keyword);
    else if (dicomParser.isPrivateTag(tag)) privateCount++;
  }
  if (privateCount > 0) removed.add('PrivateAttributes');

  return {
    patientKey,
    patientKeySource,
    studyUid: studyUid ? remapUid(key, studyUid) : null,
    seriesUid: seriesUid ? remapUid(key, seriesUid) : null,
    sopInstanceUid: sopUid ? remapUid(key, sopUid) : null,
    attributes,
    ultrasoundRegions: options.ultrasoundRegions ?? parseUltrasoundRegions(dataSet),
    removed: [...removed].sort(),
    patientIdentityRemoved: 'YES',
    deidentificationMethod: METHOD,
  };
}

/** Parse `bytes` (any DICOM, image or not) and return only its de-identified metadata. */
export function deidentifyDicom(bytes: Uint8Array, fileName: string, key: Uint8Array): DeidentifiedMetadata {
  try {
    const parsed = parseDicomBytes(bytes, fileName);
    return deidentifyDataSet(parsed.dataSet, key, { fileBytes: bytes });
  } catch (err) {
    throw asDicomError(err, fileName, 'MALFORMED', 'de-identification');
  }
}
