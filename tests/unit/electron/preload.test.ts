import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { callNames } from '../../../main/api/contract';
import { repoRoot, tempDir } from '../../helpers/temp';
import { FakeIpcRenderer } from './fake-electron';

type Listener = (event: unknown, ...args: unknown[]) => void;

const bridge = vi.hoisted(() => ({
  exposed: [] as { key: string; api: Record<string, unknown> }[],
  ipc: null as unknown,
}));

vi.mock('electron', async () => {
  const { FakeIpcRenderer: Ipc } = await import('./fake-electron');
  const ipcRenderer = new Ipc();
  bridge.ipc = ipcRenderer;
  return {
    ipcRenderer,
    contextBridge: {
      exposeInMainWorld: (key: string, api: Record<string, unknown>) => bridge.exposed.push({ key, api }),
    },
  };
});

function exposedApi(): Record<string, unknown> {
  expect(bridge.exposed).toHaveLength(1);
  expect(bridge.exposed[0]!.key).toBe('usfm');
  return bridge.exposed[0]!.api;
}

const ipc = (): FakeIpcRenderer => bridge.ipc as FakeIpcRenderer;
type Call = (input?: unknown) => Promise<unknown>;

describe('preload (source, under a mocked electron)', () => {
  beforeAll(async () => {
    await import('../../../electron/preload');
  });

  it('exposes window.usfm with exactly one function per contract call, plus call and onEvent', () => {
    const api = exposedApi();
    expect(Object.keys(api).sort()).toEqual([...callNames, 'call', 'onEvent'].sort());
    for (const [key, value] of Object.entries(api)) expect(typeof value, key).toBe('function');
  });

  it('never exposes ipcRenderer or its methods', () => {
    const api = exposedApi();
    expect(api).not.toHaveProperty('ipcRenderer');
    expect(api).not.toHaveProperty('invoke');
    expect(api).not.toHaveProperty('send');
    expect(Object.values(api)).not.toContain(bridge.ipc);
    expect(Object.values(api)).not.toContain(ipc().invoke);
  });

  it('each call function invokes its own channel and returns the outcome object', async () => {
    const api = exposedApi();
    ipc().answer = async (channel, payload) => ({ ok: true, result: { channel, payload } });
    expect(await (api['app.ping'] as Call)({ echo: 'hi' })).toEqual({
      ok: true,
      result: { channel: 'usfm:call:app.ping', payload: { echo: 'hi' } },
    });
    expect(await (api['jobs.list'] as Call)()).toEqual({
      ok: true,
      result: { channel: 'usfm:call:jobs.list', payload: {} },
    });
    const generic = api.call as (name: string, input?: unknown) => Promise<unknown>;
    expect(await generic('settings.get', {})).toEqual({
      ok: true,
      result: { channel: 'usfm:call:settings.get', payload: {} },
    });
    ipc().answer = async () => ({
      ok: false,
      error: { code: 'VALIDATION', message: 'invalid input for app.ping' },
    });
    expect(await (api['app.ping'] as Call)({ echo: 5 })).toEqual({
      ok: false,
      error: { code: 'VALIDATION', message: 'invalid input for app.ping' },
    });
  });

  it('never rejects: unknown calls, uncloneable input and transport errors become outcome objects', async () => {
    const api = exposedApi();
    const before = ipc().invocations.length;
    const generic = api.call as (
      name: string,
      input?: unknown,
    ) => Promise<{ ok: boolean; error?: { code: string } }>;
    expect((await generic('shell.exec', {})).error?.code).toBe('UNKNOWN_CALL');
    expect(ipc().invocations.length).toBe(before); // refused without reaching the main process
    ipc().answer = async () => {
      throw new Error(
        "Error invoking remote method 'usfm:call:app.ping': Error: An object could not be cloned.",
      );
    };
    expect(await (api['app.ping'] as Call)({ f: () => 1 })).toEqual({
      ok: false,
      error: { code: 'BAD_INPUT', message: 'Error: An object could not be cloned.' },
    });
    ipc().answer = async () => 'not an outcome';
    expect(await (api['app.ping'] as Call)({})).toMatchObject({ ok: false, error: { code: 'INTERNAL' } });
  });

  it('onEvent relays { event, payload } without the IPC event object, and unsubscribes', () => {
    const api = exposedApi();
    const received: unknown[][] = [];
    const unsubscribe = (api.onEvent as (l: (...args: unknown[]) => void) => () => void)((...args) =>
      received.push(args),
    );
    ipc().deliver('usfm:event', { event: 'job.progress', payload: { id: 'job_abcdef', step: 3 } });
    ipc().deliver('usfm:event', 'garbage');
    ipc().deliver('usfm:other', { event: 'x', payload: 1 });
    expect(received).toEqual([['job.progress', { id: 'job_abcdef', step: 3 }]]);
    unsubscribe();
    expect(ipc().listenerCount('usfm:event')).toBe(0);
    ipc().deliver('usfm:event', { event: 'job.state', payload: {} });
    expect(received).toHaveLength(1);
  });
});

describe('preload bundle (dist/electron/preload.cjs as built)', () => {
  let outdir: string;
  let cleanup: () => void;
  beforeAll(() => {
    ({ dir: outdir, cleanup } = tempDir('usfm-preload-build-'));
    execFileSync(
      process.execPath,
      [path.join(repoRoot, 'scripts', 'build-main.mjs'), '--only', 'preload', '--outdir', outdir],
      { cwd: repoRoot, stdio: 'pipe' },
    );
  });
  afterAll(() => cleanup());

  it('is CommonJS that requires nothing but electron, and exposes the same API', async () => {
    const code = fs.readFileSync(path.join(outdir, 'electron', 'preload.cjs'), 'utf8');
    expect(code).not.toMatch(/\bzod\b/);
    const required: string[] = [];
    const ipcRenderer = new FakeIpcRenderer();
    const exposed: { key: string; api: Record<string, unknown> }[] = [];
    const electron = {
      ipcRenderer,
      contextBridge: {
        exposeInMainWorld: (key: string, api: Record<string, unknown>) => exposed.push({ key, api }),
      },
    };
    // A sandboxed preload gets a restricted require; here it gets only `electron`.
    const sandboxRequire = (name: string): unknown => {
      required.push(name);
      if (name === 'electron') return electron;
      throw new Error(`module not found: ${name}`);
    };
    const module = { exports: {} };
    vm.runInNewContext(code, {
      require: sandboxRequire,
      module,
      exports: module.exports,
      Set,
      Promise,
      JSON,
      String,
      Error,
      TypeError,
    });
    expect(required).toEqual(['electron']);
    expect(exposed).toHaveLength(1);
    expect(exposed[0]!.key).toBe('usfm');
    expect(Object.keys(exposed[0]!.api).sort()).toEqual([...callNames, 'call', 'onEvent'].sort());
    ipcRenderer.answer = async (channel) => ({ ok: true, result: channel });
    expect(await (exposed[0]!.api['jobs.list'] as Call)({})).toEqual({
      ok: true,
      result: 'usfm:call:jobs.list',
    });
    const received: unknown[][] = [];
    (exposed[0]!.api.onEvent as (l: Listener) => () => void)((...args) => received.push(args));
    ipcRenderer.deliver('usfm:event', { event: 'log.line', payload: { message: 'm' } });
    expect(received).toEqual([['log.line', { message: 'm' }]]);
  });
});
