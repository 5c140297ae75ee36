import { z } from 'zod';
import { defineCall } from './define';

export const BackendName = z.enum(['tfjs-node-gpu', 'tfjs-node', 'wasm', 'cpu']);
export const BackendPreference = z.enum(['auto', 'tfjs-node-gpu', 'tfjs-node', 'wasm', 'cpu']);

export const BackendAttempt = z.object({
  name: BackendName,
  ok: z.boolean(),
  /** Why this backend was (not) used: missing package, failed to load, overridden, ... */
  reason: z.string(),
});

/** How matrix products run on the WASM backend (absent on other backends). */
export const MatMulReport = z.object({
  engine: z.enum(['native-blas', 'xnnpack']),
  /** The BLAS library file opened by the native bridge. */
  library: z.string().nullable(),
  threads: z.number().int().nullable(),
  /** The BLAS build configuration, or why no native BLAS is in use. */
  reason: z.string(),
});

export const BackendReport = z.object({
  active: BackendName,
  preference: BackendPreference,
  source: z.enum(['default', 'setting', 'environment']),
  attempts: z.array(BackendAttempt),
  threads: z.number().int().nullable(),
  simd: z.boolean().nullable(),
  matmul: MatMulReport.optional(),
});
export type BackendReport = z.infer<typeof BackendReport>;

export const AppInfo = z.object({
  app: z.object({ name: z.string(), version: z.string() }),
  versions: z.record(z.string(), z.string()),
  platform: z.string(),
  /** Logical processors of this machine: the upper bound offered for compute threads. */
  cpuCount: z.number().int().min(1),
  mode: z.enum(['electron', 'browser', 'cli']),
  dataDir: z.string(),
  backend: BackendReport,
  catalog: z.object({
    schemaVersion: z.number().int(),
    counts: z.record(z.string(), z.number().int()),
    sizeBytes: z.number().int(),
  }),
});
export type AppInfo = z.infer<typeof AppInfo>;

export const Settings = z.object({
  backend: BackendPreference,
  /** Compute threads: the native BLAS' threads when one is installed, else WASM threads (1 = the single-threaded build). */
  wasmThreads: z.number().int().min(1).max(64),
});
export type Settings = z.infer<typeof Settings>;

export const systemCalls = {
  'app.info': defineCall(
    'Versions, active ML backend, data directory and catalog statistics.',
    z.object({}).strict(),
    AppInfo,
  ),
  'app.ping': defineCall(
    'Liveness check.',
    z.object({ echo: z.string().max(200).optional() }).strict(),
    z.object({ pong: z.literal(true), echo: z.string().optional() }),
  ),
  'settings.get': defineCall('Current settings.', z.object({}).strict(), Settings),
  'settings.update': defineCall(
    'Change settings; returns the new settings.',
    Settings.partial().strict(),
    Settings,
  ),
};
