import { describe, expect, it } from 'vitest';
import { rasterizeCone } from '../../../main/imaging/cone';
import { detectCone } from '../../../main/imaging/cone-detect';
import { loadFrames, loadReferences, referenceMask, scoreDetection } from './cone-references';

const references = loadReferences();

describe('hand-made reference cones (tests/fixtures/cones)', () => {
  it('cover at least 12 real images: DICOM from several vendors and BUSI', () => {
    expect(references.length).toBeGreaterThanOrEqual(12);
    expect(references.filter((r) => r.kind === 'dicom').length).toBeGreaterThanOrEqual(6);
    expect(references.filter((r) => r.kind === 'image').length).toBeGreaterThanOrEqual(4);
    expect(new Set(references.map((r) => r.geometry.shape))).toEqual(new Set(['sector', 'rectangle']));
  });

  it('committed masks are the rasterised geometries', () => {
    for (const ref of references) {
      const mask = referenceMask(ref);
      const again = rasterizeCone(ref.geometry, ref.width, ref.height);
      expect(Buffer.from(mask).equals(Buffer.from(again)), ref.name).toBe(true);
    }
  });
});

describe('automatic cone detection against the references', () => {
  for (const ref of references) {
    it(`${ref.name}: IoU >= 0.9, holds the scan area, leaves out overlays`, async () => {
      const { frames, regions } = await loadFrames(ref);
      expect([frames[0]!.width, frames[0]!.height]).toEqual([ref.width, ref.height]);
      const detection = detectCone(frames, { regions });
      const score = scoreDetection(ref, frames, detection);
      expect(score.iou, `IoU (${detection.method}, ${JSON.stringify(detection.geometry)})`).toBeGreaterThanOrEqual(0.9);
      // The whole scan area is inside (a pixel or two of rasterisation at the rim aside).
      expect(score.coverage, 'share of the reference inside the automatic mask').toBeGreaterThanOrEqual(0.97);
      // Text, rulers, markers: bright pixels more than 8 px outside the scan area.
      expect(score.overlayIncluded, `share of ${score.overlayPixels} overlay pixels included`).toBeLessThanOrEqual(0.01);
      if (ref.geometry.shape === 'sector') expect(detection.geometry.shape).toBe('sector');
    });
  }
});
