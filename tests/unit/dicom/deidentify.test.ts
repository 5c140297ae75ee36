import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import {
  DEID_KEY_FILE,
  decodeDicom,
  deidentifyDicom,
  loadOrCreateDeidKey,
  pseudonymousPatientKey,
  remapUid,
} from '../../../main/dicom';
import { BASIC_PROFILE, PROFILE_BY_TAG } from '../../../main/dicom/deid-profile';
import type { DataSet } from '../../../main/dicom/dicom-parser-lib';
import { dicomParser } from '../../../main/dicom/dicom-parser-lib';
import { parseDicomBytes } from '../../../main/dicom/parse';
import { corpus, DICOM_ROOT } from '../../integration/dicom/corpus';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dicom-deid-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const key = crypto.createHash('sha256').update('test key').digest();

describe('loadOrCreateDeidKey', () => {
  it('creates a 32-byte key with mode 0600 once and returns it afterwards', () => {
    const dataDir = path.join(tmp, 'data-a');
    const first = loadOrCreateDeidKey(dataDir);
    expect(first.length).toBe(32);
    const stat = fs.statSync(path.join(dataDir, DEID_KEY_FILE));
    if (process.platform !== 'win32') expect(stat.mode & 0o777).toBe(0o600);
    expect(loadOrCreateDeidKey(dataDir).equals(first)).toBe(true);
    expect(fs.readdirSync(dataDir)).toEqual([DEID_KEY_FILE]); // no temporary files left behind
  });

  it('processes racing to create the key all end up with the same one', () => {
    const dataDir = path.join(tmp, 'data-race');
    const modulePath = path.join(repoRoot, 'main', 'dicom', 'deidentify.ts');
    const script = `import(${JSON.stringify(modulePath)}).then((m) => process.stdout.write(m.loadOrCreateDeidKey(${JSON.stringify(dataDir)}).toString('hex')))`;
    const runs = [0, 1, 2].map(() =>
      execFileSync(process.execPath, ['--import', 'tsx', '-e', script], { cwd: repoRoot, encoding: 'utf8' }),
    );
    expect(new Set(runs).size).toBe(1);
    expect(fs.readFileSync(path.join(dataDir, DEID_KEY_FILE)).toString('hex')).toBe(runs[0]);
  });

  it('refuses a key file of the wrong size instead of replacing it', () => {
    const dataDir = path.join(tmp, 'data-bad');
    fs.mkdirSync(dataDir);
    fs.writeFileSync(path.join(dataDir, DEID_KEY_FILE), 'short');
    expect(() => loadOrCreateDeidKey(dataDir)).toThrow(/expected 32/);
    expect(fs.readFileSync(path.join(dataDir, DEID_KEY_FILE), 'utf8')).toBe('short');
  });
});

describe('pseudonyms', () => {
  it('patient key is HMAC-SHA256(key, PatientID \\0 Issuer), 32 hex digits', () => {
    const expected = crypto.createHmac('sha256', key).update('12345\0HOSP').digest('hex').slice(0, 32);
    expect(pseudonymousPatientKey(key, '12345', 'HOSP')).toBe(expected);
    expect(pseudonymousPatientKey(key, '12345', 'OTHER')).not.toBe(expected);
    expect(pseudonymousPatientKey(crypto.randomBytes(32), '12345', 'HOSP')).not.toBe(expected);
  });

  it('UIDs map consistently to 2.25.<128-bit decimal>', () => {
    const uid = '1.3.6.1.4.1.5962.1.2.13.20040826185059.5457';
    const mapped = remapUid(key, uid);
    expect(mapped).toMatch(/^2\.25\.[1-9]\d*$/);
    expect(mapped.length).toBeLessThanOrEqual(64);
    expect(BigInt(mapped.slice(5)) < 2n ** 128n).toBe(true);
    expect(remapUid(key, uid)).toBe(mapped);
    expect(remapUid(key, `${uid}.1`)).not.toBe(mapped);
    expect(remapUid(crypto.randomBytes(32), uid)).not.toBe(mapped);
  });
});

/** Every string value of an identifying (Table E.1-1) or private attribute, top level and inside sequences. */
function identifyingValues(dataSet: DataSet, depth = 0): string[] {
  const values: string[] = [];
  for (const [tag, element] of Object.entries(dataSet.elements)) {
    if (element.items) {
      if (depth < 3)
        for (const item of element.items)
          if (item.dataSet) values.push(...identifyingValues(item.dataSet, depth + 1));
      continue;
    }
    const identifying = PROFILE_BY_TAG.has(tag) || (dicomParser.isPrivateTag(tag) && !tag.endsWith('0010'));
    if (!identifying || element.length < 4 || element.length > 256) continue;
    if (element.dataOffset + element.length > dataSet.byteArray.length) continue;
    const text = dataSet.string(tag)?.replace(/\0/g, '').trim();
    // Only printable text of some length: short codes ("M", "Y") and binary blobs say nothing on their own.
    if (text && text.length >= 4 && /^[\x20-\x7e]+$/.test(text)) values.push(text);
  }
  return values;
}

describe('no identifying value survives on real files', () => {
  const files = [...corpus('ultrasound'), ...corpus('encodings')];
  it.each(files.map((e) => [`${e.set}/${e.file}`, e.fullPath] as const))('%s', (name, fullPath) => {
    const bytes = fs.readFileSync(fullPath);
    const parsed = parseDicomBytes(bytes, name);
    const meta = deidentifyDicom(bytes, name, key);
    const json = JSON.stringify(meta);
    // A kept technical value may coincide with an identifying one (Manufacturer "TOSHIBA" also in a
    // private tag): only values that appear for no such reason count as leaks.
    const kept = Object.values(meta.attributes).flat().map(String).join('\n');
    const leaked = identifyingValues(parsed.dataSet).filter(
      (value) => json.includes(value) && !kept.includes(value),
    );
    expect(leaked).toEqual([]);

    const patientId = parsed.dataSet.string('x00100020')?.trim();
    if (patientId) {
      expect(meta.patientKeySource).toBe('patient-id');
      expect(meta.patientKey).toBe(
        pseudonymousPatientKey(key, patientId, parsed.dataSet.string('x00100021')?.trim() ?? ''),
      );
    }
    const studyUid = parsed.dataSet.string('x0020000d')?.trim();
    if (studyUid) expect(meta.studyUid).toBe(remapUid(key, studyUid));
    expect(meta.patientIdentityRemoved).toBe('YES');
    // What later stages need is still there.
    expect(meta.attributes.Rows).toBe(parsed.dataSet.uint16('x00280010'));
    expect(meta.attributes.Columns).toBe(parsed.dataSet.uint16('x00280011'));
    expect(meta.attributes.PhotometricInterpretation).toBe(parsed.dataSet.string('x00280004')?.trim());
    const modality = parsed.dataSet.string('x00080060')?.trim();
    if (modality) expect(meta.attributes.Modality).toBe(modality);
    const attributeNames = Object.keys(meta.attributes);
    for (const entry of BASIC_PROFILE) expect(attributeNames).not.toContain(entry.keyword);
  });

  it('keeps the Sequence of Ultrasound Regions as plain objects', () => {
    const meta = deidentifyDicom(
      fs.readFileSync(path.join(DICOM_ROOT, 'ultrasound/pydicom/examples_palette.dcm')),
      'palette',
      key,
    );
    expect(meta.ultrasoundRegions.length).toBeGreaterThan(0);
    const region = meta.ultrasoundRegions[0];
    expect(region.spatialFormatName).toBe('2D');
    expect(region.physicalUnitsXName).toBe('cm');
    expect(region.x1).toBeGreaterThan(region.x0);
    expect(region.physicalDeltaX).toBeGreaterThan(0);
  });
});

describe('a file carrying patient data leaks none of it', () => {
  // [tag, VR, value]: written with dcmtk (dcmdump of a corpus file, lines replaced, dump2dcm).
  const patient: Array<[string, string, string]> = [
    ['0010,0010', 'PN', 'Doe^Jane^Quincy'],
    ['0010,0020', 'LO', 'PID-7730219'],
    ['0010,0021', 'LO', 'ST-MARYS-MRN'],
    ['0010,0030', 'DA', '19670412'],
    ['0010,1040', 'LO', '12 Hypothetical Lane, Springfield'],
    ['0010,2154', 'SH', '555-0142-991'],
    ['0010,4000', 'LT', 'Patient anxious, prefers morning slots'],
    ['0008,0050', 'SH', 'ACC99887766'],
    ['0008,0080', 'LO', 'Saint Marys Teaching Hospital'],
    ['0008,0090', 'PN', 'House^Gregory'],
    ['0008,1050', 'PN', 'Cuddy^Lisa'],
    ['0008,1070', 'PN', 'Wilson^James'],
    ['0008,1010', 'SH', 'US-ROOM-7B'],
    ['0008,1030', 'LO', 'Left breast lesion follow-up'],
    ['0020,4000', 'LT', 'Suspicious hypoechoic mass at 2 oclock'],
    ['0018,1000', 'LO', 'SN-44120987'],
    ['0008,0020', 'DA', '20230914'],
    ['0008,0030', 'TM', '101502'],
    ['0020,0010', 'SH', 'STUDY-5521'],
    ['0009,0010', 'LO', 'ACME_PRIVATE'],
    ['0009,1001', 'LO', 'PrivateSecretValue42'],
  ];
  const studyUid = '1.2.826.0.1.3680043.8.498.77712345678901234567';

  function makeFile(name: string, elements: Array<[string, string, string]>): string {
    const dir = fs.mkdtempSync(path.join(tmp, 'dump-'));
    const source = path.join(DICOM_ROOT, 'ultrasound/pydicom/examples_rgb_color.dcm');
    // +W writes the pixel data to a file the dump refers to, so dump2dcm rebuilds the full image.
    const dump = execFileSync('dcmdump', ['+W', dir, source], { encoding: 'latin1' });
    const replaced = new Set(elements.map(([tag]) => `(${tag})`));
    const kept = dump.split('\n').filter((line) => !replaced.has(line.slice(0, 11).toLowerCase()));
    const added = elements.map(([tag, vr, value]) => `(${tag}) ${vr} [${value}]`);
    fs.writeFileSync(path.join(dir, 'dump.txt'), [...kept, ...added].join('\n'), 'latin1');
    const target = path.join(tmp, name);
    execFileSync('dump2dcm', ['-q', path.join(dir, 'dump.txt'), target]);
    return target;
  }

  it('neither the de-identified metadata nor the technical info contain any of it', async () => {
    const file = makeFile('patient.dcm', [...patient, ['0020,000d', 'UI', studyUid]]);
    const dump = execFileSync('dcmdump', [file], { encoding: 'latin1' });
    for (const [, , value] of patient) expect(dump).toContain(value); // the test file really carries it
    const result = await decodeDicom(fs.readFileSync(file), 'patient.dcm', { deidKey: key });
    expect(result.frames[0].raster.channels).toBe(3);
    const json = JSON.stringify({ info: result.info, deidentified: result.deidentified });
    for (const value of [...patient.map(([, , v]) => v), studyUid, 'Doe', 'Jane', 'Gregory', '1967']) {
      expect(json).not.toContain(value);
    }
    expect(result.deidentified?.patientKey).toBe(pseudonymousPatientKey(key, 'PID-7730219', 'ST-MARYS-MRN'));
    expect(result.deidentified?.studyUid).toBe(remapUid(key, studyUid));
    expect(result.deidentified?.removed).toEqual(
      expect.arrayContaining([
        'PatientName',
        'PatientID',
        'InstitutionName',
        'ImageComments',
        'PrivateAttributes',
      ]),
    );
    expect(result.deidentified?.attributes.Manufacturer).toBeDefined();
    expect(result.deidentified?.attributes.Modality).toBe('US');
  });

  it('files without PatientID still group by study', () => {
    const withoutId = patient.filter(([tag]) => tag !== '0010,0020');
    const a = makeFile('no-id-a.dcm', [...withoutId, ['0020,000d', 'UI', studyUid], ['0010,0020', 'LO', '']]);
    const b = makeFile('no-id-b.dcm', [
      ...withoutId,
      ['0020,000d', 'UI', studyUid],
      ['0010,0020', 'LO', ''],
      ['0008,0018', 'UI', '1.2.3.4.5.6.7'],
    ]);
    const metaA = deidentifyDicom(fs.readFileSync(a), 'a', key);
    const metaB = deidentifyDicom(fs.readFileSync(b), 'b', key);
    expect(metaA.patientKeySource).toBe('study-uid');
    expect(metaA.patientKey).toBe(metaB.patientKey);
    expect(metaA.sopInstanceUid).not.toBe(metaB.sopInstanceUid);
  });
});
