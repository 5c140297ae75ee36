import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeDicom } from '../../../main/dicom';
import { fingerprint, fingerprintDistance, isNearDuplicate } from '../../../main/ingest/fingerprint';
import { sharedDir } from '../../helpers/temp';

const us = path.join(sharedDir, 'data', 'dicom', 'ultrasound');

describe('near-duplicate frames', () => {
  it('flags the repeated frames of a real echo loop and not its moving ones', async () => {
    const file = path.join(us, 'pydicom', 'examples_ybr_color.dcm');
    const loop = await decodeDicom(fs.readFileSync(file), 'examples_ybr_color.dcm');
    const prints = loop.frames.map((f) => fingerprint(f.raster));
    const flags = prints.slice(1).map((p, i) => isNearDuplicate(prints[i]!, p));
    // Frames 11 and 28 repeat frames 10 and 27 exactly.
    expect(fingerprintDistance(prints[10]!, prints[11]!)).toBe(0);
    expect(flags[10]).toBe(true);
    expect(flags[27]).toBe(true);
    // Most of the loop moves.
    expect(flags.filter(Boolean).length).toBeLessThan(flags.length / 3);
  });

  it('does not flag consecutive frames of a loop with motion', async () => {
    const file = path.join(us, 'gdcmData-via-octave-dicom', 'US-PAL-8-10x-echo.dcm');
    const loop = await decodeDicom(fs.readFileSync(file), 'US-PAL-8-10x-echo.dcm');
    const prints = loop.frames.map((f) => fingerprint(f.raster));
    for (let i = 1; i < prints.length; i++) expect(isNearDuplicate(prints[i - 1]!, prints[i]!)).toBe(false);
  });
});
