import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, tempDir } from '../../helpers/temp';
import { jsonLines, runCliCaptured, type CliRun } from '../../helpers/cli';

let dataDir: string;
let cleanup: () => void;
beforeAll(() => ({ dir: dataDir, cleanup } = tempDir('usfm-cli-')));
afterAll(() => cleanup());

const cli = (...args: string[]): Promise<CliRun> => runCliCaptured(args);


describe('usfm CLI', () => {
  it('usfm info --json reports the active backend, versions, data dir and catalog', async () => {
    const { code, stdout } = await cli('info', '--json', '--data-dir', dataDir);
    expect(code).toBe(0);
    const [result] = jsonLines(stdout);
    expect(result).toMatchObject({ type: 'result', dataDir, mode: 'cli' });
    const backend = result!.backend as { active: string; attempts: { name: string; ok: boolean; reason: string }[] };
    expect(['tfjs-node-gpu', 'tfjs-node', 'wasm', 'cpu']).toContain(backend.active);
    expect(backend.attempts.find((a) => a.ok)?.name).toBe(backend.active);
    // Every better backend that was not used says why.
    for (const a of backend.attempts.filter((x) => !x.ok)) expect(a.reason.length).toBeGreaterThan(5);
    expect((result!.catalog as { schemaVersion: number }).schemaVersion).toBeGreaterThanOrEqual(1);
  });

  it('USFM_BACKEND overrides the choice and says so', async () => {
    process.env.USFM_BACKEND = 'cpu';
    try {
      const { stdout } = await cli('info', '--json', '--data-dir', dataDir);
      const backend = jsonLines(stdout)[0]!.backend as { active: string; source: string; attempts: { reason: string }[] };
      expect(backend).toMatchObject({ active: 'cpu', source: 'environment' });
      expect(backend.attempts[0]!.reason).toMatch(/USFM_BACKEND/);
    } finally {
      delete process.env.USFM_BACKEND;
    }
  });

  it('prints human-readable info without --json', async () => {
    const { code, stdout } = await cli('info', '--data-dir', dataDir);
    expect(code).toBe(0);
    expect(stdout).toMatch(/backend:\s+(wasm|cpu|tfjs-node)/);
  });

  it('exits 2 on bad usage and 1 on failure', async () => {
    expect((await cli('no-such-command')).code).toBe(2);
    expect((await cli()).code).toBe(2);
    expect((await cli('info', '--bogus-flag', '--data-dir', dataDir)).code).toBe(2);
    expect((await cli('jobs', 'show', 'not-a-job', '--data-dir', dataDir)).code).toBe(2);
    const missing = await cli('jobs', 'show', 'job_doesnotexist1', '--data-dir', dataDir, '--json');
    expect(missing.code).toBe(1);
    expect(jsonLines(missing.stdout)[0]).toMatchObject({ type: 'error', code: 'FAILED' });
  });

  it('lists jobs, and cancels from another process', async () => {
    const listed = await cli('jobs', 'list', '--json', '--data-dir', dataDir);
    expect(listed.code).toBe(0);
    expect(jsonLines(listed.stdout)[0]).toMatchObject({ type: 'result', jobs: expect.any(Array) });
  });

  it('runs as the real `usfm` bin', () => {
    const run = spawnSync(process.execPath, [path.join(repoRoot, 'bin', 'usfm.mjs'), 'info', '--json', '--data-dir', dataDir], { encoding: 'utf8' });
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout.trim().split('\n').at(-1)!)).toMatchObject({ type: 'result', backend: { active: expect.any(String) } });
    const help = spawnSync(process.execPath, [path.join(repoRoot, 'bin', 'usfm.mjs'), '--help'], { encoding: 'utf8' });
    expect(help.stdout).toContain('Commands:');
  });
});
