/**
 * DICOM decode speed per transfer syntax on the real corpus (shared/data/dicom/{ultrasound,encodings}):
 * frames per second of the in-process decoder (decodeDicom, all frames, codecs warm) beside dcmtk's
 * command-line decoders on the same files (dcmj2pnm / dcml2pnm writing every frame as PNM to a temporary
 * folder; process start-up and file writing included, nothing subtracted), plus the DecodePool figure
 * (child process, IPC included). dcmtk 3.6.7 has no JPEG 2000 / HTJ2K codec: those rows show "-".
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { decodeDicom, DecodePool, DicomError } from '../../main/dicom';
import { corpus, type CorpusEntry } from '../integration/dicom/corpus';

interface Row {
  syntax: string;
  files: number;
  frames: number;
  megapixels: number;
  oursSeconds: number;
  oursRuns: number;
  dcmtkFrames: number;
  dcmtkSeconds: number;
  dcmtkRuns: number;
}

const MIN_SECONDS = 0.5;
const MAX_RUNS = 20;
const DCMTK_RUNS = 3;

async function timeOurs(
  entries: Array<{ entry: CorpusEntry; bytes: Buffer }>,
): Promise<{ seconds: number; runs: number }> {
  let runs = 0;
  const started = performance.now();
  while (runs < MAX_RUNS && (runs === 0 || (performance.now() - started) / 1000 < MIN_SECONDS)) {
    for (const { entry, bytes } of entries) await decodeDicom(bytes, entry.file);
    runs++;
  }
  return { seconds: (performance.now() - started) / 1000, runs };
}

function timeDcmtk(entries: CorpusEntry[], tmp: string): { seconds: number; frames: number } {
  let frames = 0;
  const started = performance.now();
  for (let run = 0; run < DCMTK_RUNS; run++) {
    for (const entry of entries) {
      const out = path.join(tmp, `run${run}`);
      fs.mkdirSync(out, { recursive: true });
      execFileSync(entry.dcmtkTool ?? 'dcmj2pnm', ['-q', '+Fa', '+op', entry.fullPath, path.join(out, 'f')], {
        stdio: 'ignore',
      });
      frames += entry.frames;
      fs.rmSync(out, { recursive: true, force: true });
    }
  }
  return { seconds: (performance.now() - started) / 1000, frames };
}

function pad(text: string, width: number, right = false): string {
  return right ? text.padStart(width) : text.padEnd(width);
}

export async function bench(): Promise<void> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dicom-bench-'));
  try {
    const all = [...corpus('ultrasound'), ...corpus('encodings')];
    const decodable: Array<{ entry: CorpusEntry; bytes: Buffer; pixels: number; syntax: string }> = [];
    for (const entry of all) {
      const bytes = fs.readFileSync(entry.fullPath);
      try {
        const warm = await decodeDicom(bytes, entry.file); // loads the codec, checks it decodes
        const pixels = warm.frames.reduce((sum, f) => sum + f.raster.width * f.raster.height, 0);
        decodable.push({ entry, bytes, pixels, syntax: warm.info.transferSyntaxName });
      } catch (err) {
        if (!(err instanceof DicomError)) throw err;
        console.log(`skipped ${entry.file}: ${err.reason}`);
      }
    }

    const bySyntax = new Map<string, typeof decodable>();
    for (const item of decodable) bySyntax.set(item.syntax, [...(bySyntax.get(item.syntax) ?? []), item]);

    const rows: Row[] = [];
    for (const [syntax, items] of bySyntax) {
      const ours = await timeOurs(items);
      const withDcmtk = items.filter((i) => i.entry.dcmtkTool !== null).map((i) => i.entry);
      const dcmtk = withDcmtk.length > 0 ? timeDcmtk(withDcmtk, tmp) : { seconds: 0, frames: 0 };
      rows.push({
        syntax,
        files: items.length,
        frames: items.reduce((sum, i) => sum + i.entry.frames, 0),
        megapixels: items.reduce((sum, i) => sum + i.pixels, 0) / 1e6,
        oursSeconds: ours.seconds,
        oursRuns: ours.runs,
        dcmtkFrames: dcmtk.frames,
        dcmtkSeconds: dcmtk.seconds,
        dcmtkRuns: withDcmtk.length > 0 ? DCMTK_RUNS : 0,
      });
    }

    const header = `${pad('transfer syntax', 44)} ${pad('files', 5, true)} ${pad('frames', 6, true)} ${pad('ours fps', 9, true)} ${pad('ours MP/s', 9, true)} ${pad('dcmtk fps', 9, true)} ${pad('ours/dcmtk', 10, true)}`;
    console.log(header);
    console.log('-'.repeat(header.length));
    for (const row of rows) {
      const oursFps = (row.frames * row.oursRuns) / row.oursSeconds;
      const oursMps = (row.megapixels * row.oursRuns) / row.oursSeconds;
      const dcmtkFps = row.dcmtkSeconds > 0 ? row.dcmtkFrames / row.dcmtkSeconds : null;
      console.log(
        `${pad(row.syntax.slice(0, 44), 44)} ${pad(String(row.files), 5, true)} ${pad(String(row.frames), 6, true)} ` +
          `${pad(oursFps.toFixed(1), 9, true)} ${pad(oursMps.toFixed(1), 9, true)} ` +
          `${pad(dcmtkFps === null ? '-' : dcmtkFps.toFixed(1), 9, true)} ${pad(dcmtkFps === null ? '-' : `${(oursFps / dcmtkFps).toFixed(2)}x`, 10, true)}`,
      );
    }
    console.log(
      'ours: in-process decodeDicom, every frame, codecs warm; dcmtk: CLI per file (+Fa +op), process start and PNM writing included.',
    );

    // Bounded decoding: one child process, results over IPC (structured clone of the rasters).
    const pool = new DecodePool();
    try {
      await pool.warmUp();
      for (const pass of ['first pass (codecs load in the child)', 'second pass (warm child)']) {
        const started = performance.now();
        let frames = 0;
        for (const item of decodable) frames += (await pool.decodeFile(item.entry.fullPath)).frames.length;
        const seconds = (performance.now() - started) / 1000;
        console.log(
          `DecodePool, 1 child, file read + IPC included, ${pass}: ${frames} frames / ${decodable.length} files in ${seconds.toFixed(2)} s = ${(frames / seconds).toFixed(1)} fps`,
        );
      }
    } finally {
      await pool.close();
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
