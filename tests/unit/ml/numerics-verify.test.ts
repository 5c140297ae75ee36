import fs from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyNumerics } from '../../../main/ml/numerics/verify';
import { runCli } from '../../../main/cli';
import { readSafetensors, toFloat32, writeSafetensors, float32Tensor } from '../../../main/weights/safetensors';
import { tempDir } from '../../helpers/temp';
import { FIXTURES, setupWasm } from './numerics-helpers';

const temp = tempDir('usfm-numerics-');
let corrupted: string;

beforeAll(async () => {
  await setupWasm();
  // A copy of the fixtures with one wrong fact and one wrong ViT output value.
  corrupted = path.join(temp.dir, 'fixtures');
  fs.mkdirSync(corrupted);
  for (const f of fs.readdirSync(FIXTURES)) fs.copyFileSync(path.join(FIXTURES, f), path.join(corrupted, f));
  const facts = JSON.parse(fs.readFileSync(path.join(corrupted, 'facts.json'), 'utf8')) as { l1: number[] };
  facts.l1[2] = facts.l1[2]! * 1.001;
  fs.writeFileSync(path.join(corrupted, 'facts.json'), JSON.stringify(facts));
  const io = readSafetensors(path.join(FIXTURES, 'vit_timm_io.safetensors'));
  const tokens = toFloat32(io.tensors.get('tokens')!);
  tokens[1234]! += 0.01;
  const input = io.tensors.get('input')!;
  writeSafetensors(path.join(corrupted, 'vit_timm_io.safetensors'), { input: float32Tensor(input.shape, toFloat32(input)), tokens: float32Tensor(io.tensors.get('tokens')!.shape, tokens) });
});

afterAll(() => temp.cleanup());

function capture(): { stream: Writable & { isTTY?: boolean }; text: () => string } {
  let out = '';
  const stream = new Writable({
    write(chunk, _enc, done) {
      out += String(chunk);
      done();
    },
  });
  return { stream, text: () => out };
}

describe('verifyNumerics', () => {
  it('passes every comparison on the reference fixtures', async () => {
    const report = await verifyNumerics(FIXTURES);
    expect(report.backend).toBe('wasm');
    expect(report.checks.map((c) => c.name)).toEqual(
      expect.arrayContaining(['vit_timm tokens', 'vit_beit tokens', 'vit_beit pooled', 'l1', 'lsd (eps 1e-3)', 'freq_l2', 'usfm+ loss', 'band-stop mask', 'mae norm-pix loss']),
    );
    expect(report.checks.filter((c) => !c.ok)).toEqual([]);
    expect(report.ok).toBe(true);
  });

  it('fails exactly the corrupted comparisons of a damaged copy', async () => {
    const report = await verifyNumerics(corrupted);
    expect(report.ok).toBe(false);
    expect(report.checks.filter((c) => !c.ok).map((c) => c.name)).toEqual(['vit_timm tokens', 'l1']);
    const tokens = report.checks.find((c) => c.name === 'vit_timm tokens')!;
    expect(tokens.maxAbsErr).toBeGreaterThan(0.009);
  });

  it('reports a missing fixture as a failed check instead of throwing', async () => {
    const partial = path.join(temp.dir, 'partial');
    fs.mkdirSync(partial);
    fs.copyFileSync(path.join(FIXTURES, 'facts.json'), path.join(partial, 'facts.json'));
    const report = await verifyNumerics(partial);
    expect(report.ok).toBe(false);
    expect(report.checks.find((c) => c.name === 'vit_beit')?.detail).toMatch(/vit_beit_io\.safetensors/);
  });
});

describe('usfm verify-numerics', () => {
  it('exits 0 on the fixtures, 1 on the damaged copy, 2 without a folder', async () => {
    const ok = capture();
    const err = capture();
    const streams = { stdout: ok.stream, stderr: err.stream as unknown as NodeJS.WriteStream };
    expect(await runCli(['verify-numerics', FIXTURES, '--backend', 'wasm'], streams)).toBe(0);
    expect(ok.text()).toMatch(/all \d+ checks passed/);
    expect(ok.text()).toMatch(/^backend: wasm \(SIMD\), products: native-blas \(libopenblas\.so\.0\)$/m);
    const bad = capture();
    expect(await runCli(['verify-numerics', corrupted, '--json'], { stdout: bad.stream, stderr: err.stream as unknown as NodeJS.WriteStream })).toBe(1);
    const result = JSON.parse(bad.text().trim().split('\n').pop()!) as { ok: boolean; checks: { name: string; ok: boolean }[]; backend: { active: string } };
    expect(result.ok).toBe(false);
    expect(result.backend.active).toBe('wasm');
    expect(result.checks.filter((c) => !c.ok).map((c) => c.name)).toEqual(['vit_timm tokens', 'l1']);
    expect(await runCli(['verify-numerics'], streams)).toBe(2);
  });
});
