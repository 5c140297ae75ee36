import type { DataSet } from './dicom-parser-lib';
import { DicomError } from './errors';
import { looksTruncated, type ParsedDicom } from './parse';
import type { DicomTechnicalInfo, UltrasoundRegion } from './types';

const SPATIAL_FORMATS: Record<number, string> = {
  0: 'none',
  1: '2D',
  2: 'M-mode',
  3: 'spectral',
  4: 'waveform',
  5: 'graphics',
};

const DATA_TYPES: Record<number, string> = {
  0: 'none',
  1: 'tissue',
  2: 'color flow',
  3: 'PW spectral Doppler',
  4: 'CW spectral Doppler',
  5: 'Doppler mean trace',
  6: 'Doppler mode trace',
  7: 'Doppler max trace',
  8: 'volume trace',
  9: 'd(volume)/dt trace',
  10: 'ECG trace',
  11: 'pulse trace',
  12: 'phonocardiogram trace',
  13: 'gray bar',
  14: 'color bar',
  15: 'integrated backscatter',
  16: 'area trace',
  17: 'd(area)/dt trace',
  18: 'other physiological input',
};

const PHYSICAL_UNITS: Record<number, string> = {
  0: 'none',
  1: 'percent',
  2: 'dB',
  3: 'cm',
  4: 's',
  5: 'Hz',
  6: 'dB/s',
  7: 'cm/s',
  8: 'cm2',
  9: 'cm2/s',
  10: 'cm3',
  11: 'cm3/s',
  12: 'degrees',
};

/** Trimmed string value, or null when absent or empty. */
export function str(dataSet: DataSet, tag: string, index?: number): string | null {
  try {
    const value = dataSet.string(tag, index);
    return value ? value.replace(/\0+$/g, '').trim() || null : null;
  } catch {
    return null;
  }
}

function finite(value: number | undefined): number | null {
  return value !== undefined && Number.isFinite(value) ? value : null;
}

/** A numeric value read with the reader for its VR, tolerant of the wrong VR in implicit files. */
function num(
  dataSet: DataSet,
  tag: string,
  kind: 'us' | 'ul' | 'ss' | 'sl' | 'fd' | 'ds' | 'is',
  index = 0,
): number | null {
  const element = dataSet.elements[tag];
  if (!element || element.length === 0) return null;
  try {
    switch (kind) {
      case 'us':
        return finite(dataSet.uint16(tag, index));
      case 'ss':
        return finite(dataSet.int16(tag, index));
      case 'ul':
        return finite(dataSet.uint32(tag, index));
      case 'sl':
        return finite(dataSet.int32(tag, index));
      case 'fd':
        return finite(dataSet.double(tag, index));
      case 'ds':
        return finite(dataSet.floatString(tag, index));
      case 'is':
        return finite(dataSet.intString(tag, index));
    }
  } catch {
    return null;
  }
}

/**
 * US/SS elements whose VR is unknown (implicit VR): the parser reads them as the caller asks, which is
 * what we want; this helper only exists so that a 4-byte UL region coordinate still reads right.
 */
function regionInt(dataSet: DataSet, tag: string): number | null {
  const element = dataSet.elements[tag];
  if (!element) return null;
  if (element.vr === 'SL' || (element.vr === undefined && element.length === 4))
    return num(dataSet, tag, 'sl');
  if (element.vr === 'UL') return num(dataSet, tag, 'ul');
  if (element.vr === 'SS') return num(dataSet, tag, 'ss');
  return element.length >= 4 ? num(dataSet, tag, 'ul') : num(dataSet, tag, 'us');
}

export function parseUltrasoundRegions(dataSet: DataSet): UltrasoundRegion[] {
  const sequence = dataSet.elements.x00186011;
  if (!sequence?.items) return [];
  const regions: UltrasoundRegion[] = [];
  for (const item of sequence.items) {
    const ds = item.dataSet;
    if (!ds) continue;
    const spatialFormat = regionInt(ds, 'x00186012') ?? 0;
    const dataType = regionInt(ds, 'x00186014') ?? 0;
    const unitsX = regionInt(ds, 'x00186024') ?? 0;
    const unitsY = regionInt(ds, 'x00186026') ?? 0;
    regions.push({
      spatialFormat,
      spatialFormatName: SPATIAL_FORMATS[spatialFormat] ?? `code ${spatialFormat}`,
      dataType,
      dataTypeName: DATA_TYPES[dataType] ?? `code ${dataType}`,
      flags: regionInt(ds, 'x00186016') ?? 0,
      x0: regionInt(ds, 'x00186018') ?? 0,
      y0: regionInt(ds, 'x0018601a') ?? 0,
      x1: regionInt(ds, 'x0018601c') ?? 0,
      y1: regionInt(ds, 'x0018601e') ?? 0,
      physicalUnitsX: unitsX,
      physicalUnitsXName: PHYSICAL_UNITS[unitsX] ?? `code ${unitsX}`,
      physicalUnitsY: unitsY,
      physicalUnitsYName: PHYSICAL_UNITS[unitsY] ?? `code ${unitsY}`,
      physicalDeltaX: num(ds, 'x0018602c', 'fd'),
      physicalDeltaY: num(ds, 'x0018602e', 'fd'),
      referencePixelX0: regionInt(ds, 'x00186020'),
      referencePixelY0: regionInt(ds, 'x00186022'),
      referencePhysicalValueX: num(ds, 'x00186028', 'fd'),
      referencePhysicalValueY: num(ds, 'x0018602a', 'fd'),
      transducerFrequencyKHz: regionInt(ds, 'x00186030'),
    });
  }
  return regions;
}

function pixelSpacing(dataSet: DataSet): [number, number] | null {
  for (const tag of ['x00280030', 'x00181164']) {
    const row = num(dataSet, tag, 'ds', 0);
    const col = num(dataSet, tag, 'ds', 1);
    if (row !== null && col !== null && row > 0 && col > 0) return [row, col];
  }
  return null;
}

/** Read the image pixel module and friends; throws NO_PIXEL_DATA / MALFORMED when they cannot describe an image. */
export function readTechnicalInfo(parsed: ParsedDicom, requireImage = true): DicomTechnicalInfo {
  const { dataSet, file } = parsed;
  const rows = num(dataSet, 'x00280010', 'us') ?? 0;
  const columns = num(dataSet, 'x00280011', 'us') ?? 0;
  const samplesPerPixel = num(dataSet, 'x00280002', 'us') ?? 1;
  const bitsAllocated = num(dataSet, 'x00280100', 'us') ?? 0;
  const bitsStored = num(dataSet, 'x00280101', 'us') ?? bitsAllocated;
  const highBit = num(dataSet, 'x00280102', 'us') ?? bitsStored - 1;
  const pixelRepresentation = num(dataSet, 'x00280103', 'us') === 1 ? 1 : 0;
  const planar = num(dataSet, 'x00280006', 'us');
  const framesRaw = num(dataSet, 'x00280008', 'is');
  const photometric = (
    str(dataSet, 'x00280004') ?? (samplesPerPixel === 3 ? 'RGB' : 'MONOCHROME2')
  ).toUpperCase();
  const hasPixelData = dataSet.elements.x7fe00010 !== undefined;

  if (requireImage) {
    if (!hasPixelData) {
      if (!parsed.parseError)
        throw new DicomError('NO_PIXEL_DATA', file, 'no pixel data (7FE0,0010) in this file');
      if (looksTruncated(parsed.parseError)) {
        throw new DicomError('TRUNCATED', file, `file ends before the pixel data (${parsed.parseError})`);
      }
      throw new DicomError(
        'MALFORMED',
        file,
        `dataset is corrupt before the pixel data (${parsed.parseError})`,
      );
    }
    if (rows <= 0 || columns <= 0) {
      throw new DicomError('MALFORMED', file, `image has no usable size (Rows ${rows}, Columns ${columns})`);
    }
    if (![1, 8, 16, 32].includes(bitsAllocated)) {
      throw new DicomError('UNSUPPORTED_IMAGE', file, `unsupported Bits Allocated ${bitsAllocated}`);
    }
    if (samplesPerPixel !== 1 && samplesPerPixel !== 3) {
      throw new DicomError('UNSUPPORTED_IMAGE', file, `unsupported Samples per Pixel ${samplesPerPixel}`);
    }
    if (bitsStored < 1 || bitsStored > bitsAllocated) {
      throw new DicomError(
        'MALFORMED',
        file,
        `Bits Stored ${bitsStored} does not fit Bits Allocated ${bitsAllocated}`,
      );
    }
  }

  const isColourOut = samplesPerPixel === 3 || photometric === 'PALETTE COLOR';
  return {
    transferSyntaxUid: parsed.transferSyntaxUid,
    transferSyntaxName: parsed.transferSyntaxName,
    photometric,
    outputPhotometric: isColourOut ? 'RGB' : 'MONOCHROME2',
    rows,
    columns,
    numberOfFrames: framesRaw !== null && framesRaw > 0 ? framesRaw : 1,
    samplesPerPixel,
    bitsAllocated,
    bitsStored,
    highBit,
    pixelRepresentation,
    planarConfiguration: samplesPerPixel === 3 ? (planar === 1 ? 1 : 0) : null,
    modality: str(dataSet, 'x00080060'),
    sopClassUid: str(dataSet, 'x00080016') ?? str(dataSet, 'x00020002'),
    pixelSpacingMm: pixelSpacing(dataSet),
    frameTimeMs: num(dataSet, 'x00181063', 'ds'),
    cineRate: num(dataSet, 'x00180040', 'is'),
    rescaleSlope: num(dataSet, 'x00281053', 'ds'),
    rescaleIntercept: num(dataSet, 'x00281052', 'ds'),
    ultrasoundRegions: parseUltrasoundRegions(dataSet),
    lossyCompression: parsed.transferSyntax?.lossy === true || str(dataSet, 'x00282110') === '01',
  };
}
