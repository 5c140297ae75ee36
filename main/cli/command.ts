import type { ParseArgsConfig } from 'node:util';
import type { AppContext } from '../app/context';
import type { JobRecord } from '../api/contract';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;
export type ParsedValues = Record<string, string | boolean | (string | boolean)[] | undefined>;

/** What every command gets: parsed arguments, output helpers and the app (opened on first use). */
export interface CommandContext {
  readonly values: ParsedValues;
  readonly positionals: string[];
  readonly json: boolean;
  readonly dataDir: string;
  /** The app, opened on first use ('cli' mode unless the command serves the UI). */
  app(mode?: 'cli' | 'browser'): AppContext;
  /** Human-readable line on stdout (suppressed with --json). */
  print(text: string): void;
  /** The command's final result: one JSON object with --json, else `human` (or pretty JSON) is printed. */
  result(value: unknown, human?: string): void;
  /** Start a job, show its progress (bar on a terminal, JSON lines with --json) and wait for its end. */
  runJob(kind: string, params: unknown, title: string): Promise<JobRecord>;
}

export interface CliCommand {
  name: string;
  summary: string;
  usage: string;
  options?: OptionSpec;
  allowPositionals?: boolean;
  /** Returns the exit code: 0 success, 1 failure (2 is for usage errors: throw UsageError). */
  run(ctx: CommandContext): Promise<number>;
}

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export function stringOption(values: ParsedValues, name: string, required: true): string;
export function stringOption(values: ParsedValues, name: string, required?: false): string | undefined;
export function stringOption(values: ParsedValues, name: string, required = false): string | undefined {
  const v = values[name];
  if (v === undefined) {
    if (required) throw new UsageError(`--${name} is required`);
    return undefined;
  }
  if (typeof v !== 'string') throw new UsageError(`--${name} needs a value`);
  return v;
}

export function intOption(values: ParsedValues, name: string, fallback?: number): number | undefined {
  const v = stringOption(values, name);
  if (v === undefined) return fallback;
  if (!/^-?\d+$/.test(v)) throw new UsageError(`--${name} must be an integer, got "${v}"`);
  return Number(v);
}

export function numberOption(values: ParsedValues, name: string, fallback?: number): number | undefined {
  const v = stringOption(values, name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new UsageError(`--${name} must be a number, got "${v}"`);
  return n;
}

export function choiceOption<T extends string>(values: ParsedValues, name: string, choices: readonly T[], fallback: T): T {
  const v = stringOption(values, name) ?? fallback;
  if (!choices.includes(v as T)) throw new UsageError(`--${name} must be one of ${choices.join(', ')}, got "${v}"`);
  return v as T;
}
