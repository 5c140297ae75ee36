import { PassThrough } from 'node:stream';
import { runCli } from '../../main/cli/index';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the `usfm` CLI in this process with its output captured. */
export async function runCliCaptured(args: string[]): Promise<CliRun> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c: Buffer) => (out += c.toString()));
  stderr.on('data', (c: Buffer) => (err += c.toString()));
  const code = await runCli(args, { stdout, stderr: stderr as unknown as NodeJS.WriteStream });
  return { code, stdout: out, stderr: err };
}

/** The JSON lines a `--json` run printed. */
export function jsonLines(text: string): Record<string, unknown>[] {
  return text
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}
