/**
 * The `usfm` command line. Every command takes --data-dir and --json; long work runs as a job in its
 * own process with a progress bar (or JSON lines). Exit codes: 0 success, 1 failure, 2 bad usage.
 */
import { parseArgs } from 'node:util';
import { resolveDataDir } from '../config/paths';
import { createApp } from '../app/create-app';
import type { AppContext } from '../app/context';
import { TERMINAL_JOB_STATES, type JobRecord } from '../api/contract';
import { commands } from './commands';
import { UsageError, type CommandContext, type OptionSpec } from './command';
import { ProgressBar } from './progress';

const GLOBAL_OPTIONS: OptionSpec = {
  'data-dir': { type: 'string' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
};

export interface CliStreams {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WriteStream;
}

function helpText(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    'usfm: ultrasound foundation-model workbench',
    '',
    'Usage: usfm <command> [options] [--data-dir DIR] [--json]',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Global options:',
    '  --data-dir DIR  catalog and data folder (default: USFM_DATA_DIR or the per-user app folder)',
    '  --json          machine-readable output: JSON lines for progress, a final result object',
    '  -h, --help      help for a command',
  ].join('\n');
}

export async function runCli(argv: string[], streams: CliStreams = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    streams.stdout.write(`${helpText()}\n`);
    return name ? 0 : 2;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    streams.stderr.write(`usfm: unknown command "${name}"\n\n${helpText()}\n`);
    return 2;
  }
  const wantsJson = rest.includes('--json');
  let app: AppContext | null = null;
  try {
    const { values, positionals } = parseArgs({
      args: rest,
      options: { ...GLOBAL_OPTIONS, ...(command.options ?? {}) },
      allowPositionals: command.allowPositionals ?? false,
      strict: true,
    });
    if (values.help) {
      streams.stdout.write(`${command.usage}\n`);
      return 0;
    }
    const json = Boolean(values.json);
    const dataDir = resolveDataDir(typeof values['data-dir'] === 'string' ? values['data-dir'] : null);
    const ctx: CommandContext = {
      values,
      positionals,
      json,
      dataDir,
      app: (mode = 'cli') => (app ??= createApp({ dataDir, mode })),
      print: (text) => {
        if (!json) streams.stdout.write(`${text}\n`);
      },
      result: (value, human) => {
        if (json) streams.stdout.write(`${JSON.stringify({ type: 'result', ...(isPlainObject(value) ? value : { value }) })}\n`);
        else streams.stdout.write(`${human ?? JSON.stringify(value, null, 2)}\n`);
      },
      runJob: (kind, params, title) => runJobWithProgress(ctx.app(), kind, params, title, json, streams),
    };
    return await command.run(ctx);
  } catch (err) {
    const usage = err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    const message = err instanceof Error ? err.message : String(err);
    if (wantsJson) streams.stdout.write(`${JSON.stringify({ type: 'error', code: usage ? 'USAGE' : 'FAILED', message })}\n`);
    else streams.stderr.write(`usfm ${command.name}: ${message}${usage ? `\n\n${command.usage}` : ''}\n`);
    return usage ? 2 : 1;
  } finally {
    await (app as AppContext | null)?.close();
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

async function runJobWithProgress(app: AppContext, kind: string, params: unknown, title: string, json: boolean, streams: CliStreams): Promise<JobRecord> {
  const bar = !json && streams.stderr.isTTY ? new ProgressBar(streams.stderr) : null;
  let lastPlain = 0;
  const unsubscribe = app.events.subscribe((event, payload) => {
    if (event === 'job.progress') {
      const p = payload as { id: string; progress: JobRecord['progress'] };
      if (!p.progress) return;
      if (json) streams.stdout.write(`${JSON.stringify({ type: 'progress', job: p.id, ...p.progress })}\n`);
      else if (bar) bar.update(p.progress);
      else if (Date.now() - lastPlain > 5000) {
        lastPlain = Date.now();
        streams.stderr.write(`${ProgressBar.render(p.progress)}\n`);
      }
    } else if (event === 'log.line' && !json) {
      const line = payload as { level: string; message: string };
      if (line.level === 'warn' || line.level === 'error') {
        bar?.done();
        streams.stderr.write(`${line.level}: ${line.message}\n`);
      }
    }
  });
  // Ctrl-C asks the job to checkpoint and stop; it can be resumed later.
  const onSigint = (): void => {
    streams.stderr.write('\nstopping: the job saves a checkpoint first (Ctrl-C again to force)\n');
    process.removeListener('SIGINT', onSigint);
    void app.jobs.shutdown(30_000);
  };
  process.on('SIGINT', onSigint);
  try {
    const job = app.jobs.start(kind, params, title);
    if (json) streams.stdout.write(`${JSON.stringify({ type: 'job', id: job.id, kind, state: job.state })}\n`);
    const done = await app.jobs.waitFor(job.id);
    bar?.done();
    if (!TERMINAL_JOB_STATES.includes(done.state)) throw new Error(`job ${done.id} ended in state ${done.state}`);
    return done;
  } finally {
    process.removeListener('SIGINT', onSigint);
    unsubscribe();
  }
}
