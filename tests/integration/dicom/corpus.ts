import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The shared real-data corpus (../shared relative to the repository root) and its files.tsv listings. */
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const DICOM_ROOT = path.resolve(repoRoot, '..', 'shared', 'data', 'dicom');

export interface CorpusEntry {
  set: 'ultrasound' | 'encodings' | 'broken';
  file: string;
  fullPath: string;
  tsUid: string;
  photometric: string;
  frames: number;
  /** dcmtk decodes it: 'dcmj2pnm' | 'dcml2pnm', or null ("n/a" or FAIL). */
  dcmtkTool: 'dcmj2pnm' | 'dcml2pnm' | null;
  dcmtkNote: string;
}

export function corpus(set: CorpusEntry['set']): CorpusEntry[] {
  const tsv = fs
    .readFileSync(path.join(DICOM_ROOT, set, 'files.tsv'), 'utf8')
    .trim()
    .split('\n');
  const header = tsv[0].split('\t');
  const col = (name: string): number => header.indexOf(name);
  return tsv.slice(1).map((line) => {
    const cells = line.split('\t');
    const note = cells[col('dcmtk_decode')] ?? '';
    const tool = note.startsWith('ok via dcml2pnm')
      ? 'dcml2pnm'
      : note.startsWith('ok via dcmj2pnm')
        ? 'dcmj2pnm'
        : null;
    const frames = Number(cells[col('frames')]);
    return {
      set,
      file: cells[0],
      fullPath: path.join(DICOM_ROOT, set, cells[0]),
      tsUid: cells[col('ts_uid')],
      photometric: cells[col('photometric')],
      frames: Number.isFinite(frames) && frames > 0 ? frames : 1,
      dcmtkTool: tool,
      dcmtkNote: note,
    };
  });
}

export function readCorpusFile(set: CorpusEntry['set'], file: string): Buffer {
  return fs.readFileSync(path.join(DICOM_ROOT, set, file));
}
