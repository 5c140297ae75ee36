import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * Reference decodes with Debian's dcmtk (dcmj2pnm for JPEG/RLE/uncompressed, dcml2pnm for JPEG-LS).
 * Options: -M (no modality LUT), no VOI windowing (dcmtk's default), monochrome written as n-bit ASCII PGM
 * with n = Bits Stored so the values are the stored ones (signed data comes out shifted by 2^(n-1)),
 * colour as 8-bit binary PPM. All frames with +Fa.
 */
export interface DcmtkImage {
  width: number;
  height: number;
  channels: 1 | 3;
  frames: Uint32Array[];
}

export function dcmtkAvailable(): boolean {
  return spawnSync('dcmj2pnm', ['--version'], { stdio: 'ignore' }).status === 0;
}

function parsePnm(bytes: Buffer): { width: number; height: number; channels: 1 | 3; values: Uint32Array } {
  let pos = 0;
  const token = (): string => {
    for (;;) {
      while (pos < bytes.length && /\s/.test(String.fromCharCode(bytes[pos]))) pos++;
      if (bytes[pos] === 0x23) {
        while (pos < bytes.length && bytes[pos] !== 0x0a) pos++;
        continue;
      }
      break;
    }
    const start = pos;
    while (pos < bytes.length && !/\s/.test(String.fromCharCode(bytes[pos]))) pos++;
    return bytes.subarray(start, pos).toString('latin1');
  };
  const magic = token();
  const width = Number(token());
  const height = Number(token());
  const maxval = Number(token());
  const channels = magic === 'P3' || magic === 'P6' ? 3 : 1;
  const count = width * height * channels;
  const values = new Uint32Array(count);
  if (magic === 'P2' || magic === 'P3') {
    for (let i = 0; i < count; i++) values[i] = Number(token());
  } else {
    pos++; // single whitespace after maxval
    const wide = maxval > 255;
    for (let i = 0; i < count; i++)
      values[i] = wide ? (bytes[pos + 2 * i] << 8) | bytes[pos + 2 * i + 1] : bytes[pos + i];
  }
  return { width, height, channels, values };
}

export function dcmtkDecode(
  file: string,
  options: { jpegLs: boolean; monochromeBits: number | null },
): DcmtkImage {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dcmtk-ref-'));
  try {
    const base = path.join(dir, 'frame');
    const format = options.monochromeBits ? ['+opn', String(options.monochromeBits)] : ['+op'];
    execFileSync(options.jpegLs ? 'dcml2pnm' : 'dcmj2pnm', ['-q', '-M', '+Fa', ...format, file, base], {
      stdio: 'ignore',
    });
    const outputs = fs
      .readdirSync(dir)
      .map((name) => ({ name, index: Number(name.split('.')[1]) }))
      .sort((a, b) => a.index - b.index);
    const frames: Uint32Array[] = [];
    let shape: { width: number; height: number; channels: 1 | 3 } | null = null;
    for (const out of outputs) {
      const pnm = parsePnm(fs.readFileSync(path.join(dir, out.name)));
      shape = { width: pnm.width, height: pnm.height, channels: pnm.channels };
      frames.push(pnm.values);
    }
    if (!shape) throw new Error(`dcmtk wrote no output for ${file}`);
    return { ...shape, frames };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
