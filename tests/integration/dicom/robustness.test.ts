import { describe, expect, it } from 'vitest';
import { decodeDicom, DicomError } from '../../../main/dicom';
import { parseDicomBytes } from '../../../main/dicom/parse';
import { corpus, readCorpusFile } from './corpus';

/** Decode and classify: 'ok' or the DicomError code. Anything else thrown fails the test. */
async function outcome(bytes: Uint8Array, label: string): Promise<string> {
  try {
    await decodeDicom(bytes, label);
    return 'ok';
  } catch (err) {
    if (!(err instanceof DicomError)) {
      throw new Error(
        `${label}: threw ${err instanceof Error ? err.constructor.name : typeof err} instead of DicomError: ${String(err)}`,
      );
    }
    expect(err.message.startsWith(`${label}: `)).toBe(true);
    expect(err.file).toBe(label);
    expect(err.reason.length).toBeGreaterThan(10);
    return err.code;
  }
}

describe('broken corpus files are rejected cleanly', () => {
  const broken = corpus('broken');
  it.each(broken.map((e) => [e.file, e] as const))('%s', async (_name, entry) => {
    const result = await outcome(readCorpusFile('broken', entry.file), entry.file);
    // Files that no reader decodes (dcmtk FAIL and nothing to show) must not pretend to succeed.
    if (entry.dcmtkNote.startsWith('FAIL')) expect(result).not.toBe('ok');
  });

  it('names the cause in plain words', async () => {
    const truncated = await decodeDicom(
      readCorpusFile('broken', 'pydicom/MR_truncated.dcm'),
      'MR_truncated.dcm',
    ).catch((e: unknown) => e);
    expect(truncated).toBeInstanceOf(DicomError);
    expect((truncated as DicomError).code).toBe('TRUNCATED');
    expect((truncated as DicomError).message).toMatch(/^MR_truncated\.dcm: truncated pixel data/);

    const headerless = await decodeDicom(
      readCorpusFile('broken', 'pydicom/no_meta.dcm'),
      'no_meta.dcm',
    ).catch((e: unknown) => e);
    expect((headerless as DicomError).code).toBe('NOT_DICOM');
    expect((headerless as DicomError).message).toBe(
      'no_meta.dcm: not a DICOM file: no DICM preamble and no recognisable dataset',
    );

    const png = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108000000003a7e9b55', 'hex');
    const notDicom = await decodeDicom(png, 'photo.png').catch((e: unknown) => e);
    expect((notDicom as DicomError).code).toBe('NOT_DICOM');
  });
});

/** A small deterministic PRNG so the mutations are the same on every run. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 0x100000000;
  };
}

const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'UC', 'UN', 'UR', 'UT', 'UV']);

/** Byte ranges of the length fields of the file's top-level elements. */
function lengthFields(bytes: Uint8Array): Array<[number, number]> {
  const parsed = parseDicomBytes(bytes, 'probe');
  return Object.values(parsed.dataSet.elements)
    .filter((e) => e.dataOffset > 8 && e.dataOffset <= bytes.length)
    .map((e) => {
      const size = e.vr === undefined || LONG_VRS.has(e.vr) ? 4 : 2;
      return [e.dataOffset - size, e.dataOffset] as [number, number];
    });
}

describe('mutated corpus files never crash, hang or throw anything but DicomError', () => {
  // One file per transfer syntax family and photometric kind.
  const sources: Array<['ultrasound' | 'encodings', string]> = [
    ['ultrasound', 'pydicom/examples_ybr_color.dcm'],
    ['ultrasound', 'WG04/US1_RLE.dcm'],
    ['ultrasound', 'pydicom-data/US1_J2KI.dcm'],
    ['ultrasound', 'pydicom-data/JPGLosslessP14SV1_1s_1f_8b.dcm'],
    ['ultrasound', 'pydicom/examples_palette.dcm'],
    ['ultrasound', 'pydicom/ExplVR_BigEnd.dcm'],
    ['ultrasound', 'dicomParser/IM00001.implicit_little_endian.dcm'],
    ['encodings', 'pydicom/MR_small_jpeg_ls_lossless.dcm'],
    ['encodings', 'pydicom-data/HTJ2K_08_RGB.dcm'],
    ['encodings', 'pydicom/image_dfl.dcm'],
    ['encodings', 'pydicom/SC_ybr_full_422_uncompressed.dcm'],
  ];

  it.each(sources)('%s/%s', async (set, file) => {
    const original = readCorpusFile(set, file);
    const random = prng(original.length);
    const seen = new Map<string, number>();
    const record = (code: string): void => {
      seen.set(code, (seen.get(code) ?? 0) + 1);
    };

    for (let k = 1; k <= 24; k++) {
      const cut = Math.floor((original.length * k) / 25);
      record(await outcome(original.subarray(0, cut), `${file}#cut${cut}`));
    }
    for (const cut of [0, 1, 7, 128, 131, 132, 140])
      record(await outcome(original.subarray(0, cut), `${file}#cut${cut}`));

    for (let k = 0; k < 20; k++) {
      const mutated = Buffer.from(original);
      for (let j = 0; j < 6; j++)
        mutated[Math.floor(random() * mutated.length)] ^= 1 << Math.floor(random() * 8);
      record(await outcome(mutated, `${file}#flip${k}`));
    }

    const fields = lengthFields(original);
    for (let k = 0; k < 12 && fields.length > 0; k++) {
      const [start, end] = fields[Math.floor(random() * fields.length)];
      const mutated = Buffer.from(original);
      mutated.fill(0, start, end);
      record(await outcome(mutated, `${file}#zero${start}`));
    }
    for (let k = 0; k < 4 && fields.length > 0; k++) {
      const [start, end] = fields[Math.floor(random() * fields.length)];
      const mutated = Buffer.from(original);
      mutated.fill(0xff, start, end); // absurd lengths
      record(await outcome(mutated, `${file}#huge${start}`));
    }

    // Truncation must mostly be reported as such, not as something vaguer.
    expect(seen.get('TRUNCATED') ?? 0).toBeGreaterThan(0);
    expect([...seen.keys()].every((code) => code === 'ok' || /^[A-Z_]+$/.test(code))).toBe(true);
  });
});
