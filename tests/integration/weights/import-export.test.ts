import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dispatch } from '../../../main/api/dispatcher';
import type { AppContext } from '../../../main/app/context';
import type { JobRecord, ModelRecordResult } from '../../../main/api/contract';
import { openSafetensors } from '../../../main/weights/safetensors';
import { jobState, testApp } from '../../helpers/app';
import { sharedDir, tempDir } from '../../helpers/temp';
import { jsonLines, runCliCaptured } from '../../helpers/cli';
import { PY_SAFETENSORS_READER, runPython, runPythonJson } from '../../unit/weights/python-helper';

const fixtures = path.join(sharedDir, 'reference', 'fixtures');
let app: AppContext;
let dataDir: string;
let dispose: () => Promise<void>;
let work: string;
let cleanupWork: () => void;

beforeAll(() => {
  ({ app, dataDir, dispose } = testApp('cli'));
  ({ dir: work, cleanup: cleanupWork } = tempDir('usfm-weights-io-'));
});
afterAll(async () => {
  await dispose();
  cleanupWork();
});

async function call<T>(name: string, input: unknown): Promise<T> {
  const outcome = await dispatch(app, name, input);
  if (!outcome.ok) throw new Error(`${outcome.error.code}: ${outcome.error.message}`);
  return outcome.result as T;
}

async function importFile(file: string, name: string, extra: Record<string, unknown> = {}): Promise<JobRecord> {
  const job = await call<JobRecord>('weights.import', { file, name, ...extra });
  expect(job.kind).toBe('weights-import');
  return app.jobs.waitFor(job.id);
}

// PyTorch side: the exported files are read with a pure-Python safetensors parser (json header + torch.frombuffer)
// and loaded with load_state_dict(strict=True) into ViT modules written here with timm's / BEiT's names;
// their forward must reproduce the reference outputs.
const VERIFY =
  PY_SAFETENSORS_READER +
  String.raw`
import sys, json, math, torch
import torch.nn as nn
import torch.nn.functional as F
timm_file, beit_file, fx = sys.argv[1], sys.argv[2], sys.argv[3]

class Attention(nn.Module):
    def __init__(s, d, heads, beit):
        super().__init__(); s.heads, s.beit = heads, beit
        s.qkv = nn.Linear(d, 3 * d, bias=not beit); s.proj = nn.Linear(d, d)
        if beit: s.q_bias = nn.Parameter(torch.zeros(d)); s.v_bias = nn.Parameter(torch.zeros(d))
    def forward(s, x, bias=None):
        B, N, D = x.shape
        b = torch.cat([s.q_bias, torch.zeros_like(s.v_bias), s.v_bias]) if s.beit else s.qkv.bias
        q, k, v = F.linear(x, s.qkv.weight, b).reshape(B, N, 3, s.heads, D // s.heads).permute(2, 0, 3, 1, 4)
        a = (q * (D // s.heads) ** -0.5) @ k.transpose(-2, -1)
        if bias is not None: a = a + bias
        return s.proj((a.softmax(-1) @ v).transpose(1, 2).reshape(B, N, D))
class Mlp(nn.Module):
    def __init__(s, d): super().__init__(); s.fc1 = nn.Linear(d, 4 * d); s.fc2 = nn.Linear(4 * d, d)
    def forward(s, x): return s.fc2(F.gelu(s.fc1(x)))
class Block(nn.Module):
    def __init__(s, d, heads, beit):
        super().__init__(); s.beit = beit
        s.norm1 = nn.LayerNorm(d, eps=1e-6); s.attn = Attention(d, heads, beit); s.norm2 = nn.LayerNorm(d, eps=1e-6); s.mlp = Mlp(d)
        if beit: s.gamma_1 = nn.Parameter(torch.ones(d)); s.gamma_2 = nn.Parameter(torch.ones(d))
    def forward(s, x, bias=None):
        if s.beit:
            x = x + s.gamma_1 * s.attn(s.norm1(x), bias)
            return x + s.gamma_2 * s.mlp(s.norm2(x))
        x = x + s.attn(s.norm1(x))
        return x + s.mlp(s.norm2(x))
class PatchEmbed(nn.Module):
    def __init__(s, d): super().__init__(); s.proj = nn.Conv2d(3, d, 16, 16)
    def forward(s, x): return s.proj(x).flatten(2).transpose(1, 2)
class RelPosBias(nn.Module):
    def __init__(s, g, heads):
        super().__init__(); s.g = g
        s.relative_position_bias_table = nn.Parameter(torch.zeros((2 * g - 1) ** 2 + 3, heads))
        coords = torch.stack(torch.meshgrid(torch.arange(g), torch.arange(g), indexing='ij')).flatten(1)
        rel = (coords[:, :, None] - coords[:, None, :]).permute(1, 2, 0) + (g - 1)
        R = (2 * g - 1) ** 2 + 3
        idx = torch.zeros(g * g + 1, g * g + 1, dtype=torch.long)
        idx[1:, 1:] = rel[..., 0] * (2 * g - 1) + rel[..., 1]
        idx[0, :] = R - 3; idx[:, 0] = R - 2; idx[0, 0] = R - 1
        s.register_buffer('relative_position_index', idx)  # persistent, as in BEiT, USFM and timm's Beit
    def forward(s):
        n = s.g * s.g + 1
        return s.relative_position_bias_table[s.relative_position_index.view(-1)].view(n, n, -1).permute(2, 0, 1)
class ViT(nn.Module):
    """timm VisionTransformer (num_classes=0) or BEiT/USFM encoder names."""
    def __init__(s, d, depth, heads, img, beit):
        super().__init__(); g = img // 16; s.beit = beit
        s.cls_token = nn.Parameter(torch.zeros(1, 1, d)); s.patch_embed = PatchEmbed(d)
        if beit: s.rel_pos_bias = RelPosBias(g, heads)
        else: s.pos_embed = nn.Parameter(torch.zeros(1, g * g + 1, d))
        s.blocks = nn.ModuleList([Block(d, heads, beit) for _ in range(depth)])
        if beit: s.fc_norm = nn.LayerNorm(d, eps=1e-6)
        else: s.norm = nn.LayerNorm(d, eps=1e-6)
    def forward(s, x):
        t = s.patch_embed(x)
        t = torch.cat([s.cls_token.expand(x.shape[0], -1, -1), t], 1)
        bias = s.rel_pos_bias() if s.beit else None
        if not s.beit: t = t + s.pos_embed
        for b in s.blocks: t = b(t, bias)
        if s.beit: return t, s.fc_norm(t[:, 1:].mean(1))
        return s.norm(t), None

def check(file, ref_pth, io, beit):
    sd, meta = load_safetensors(file)
    config = json.loads(meta['config'])['vit']
    ref = torch.load(ref_pth)
    ref = ref.get('model', ref)
    model = ViT(config['embedDim'], config['depth'], config['numHeads'], config['imgSize'], beit)
    missing, unexpected = model.load_state_dict(sd, strict=True)
    iod, _ = load_safetensors(f'{fx}/{io}')
    with torch.no_grad(): tokens, pooled = model(iod['input'])
    return {
        'keys_equal': sorted(sd) == sorted(ref),
        'bits_equal': all(torch.equal(sd[k], ref[k]) for k in ref),
        'shapes': {k: list(v.shape) for k, v in sd.items()},
        'metadata': meta,
        'tokens_err': float((tokens - iod['tokens']).abs().max()),
        'pooled_err': float((pooled - iod['pooled']).abs().max()) if beit else 0.0,
    }
print(json.dumps({'timm': check(timm_file, f'{fx}/vit_timm_weights_mae_style.pth', 'vit_timm_io.safetensors', False),
                  'beit': check(beit_file, f'{fx}/vit_beit_weights.pth', 'vit_beit_io.safetensors', True)}))
`;

interface Verified {
  keys_equal: boolean;
  bits_equal: boolean;
  shapes: Record<string, number[]>;
  metadata: Record<string, string>;
  tokens_err: number;
  pooled_err: number;
}

describe('weights.import / export / list / get / delete with real job processes', () => {
  let beitId: string;
  let timmId: string;

  it('imports the USFM and MAE reference checkpoints as jobs', async () => {
    const beit = await importFile(path.join(fixtures, 'vit_beit_weights.pth'), 'USFM reference');
    expect(beit.state, JSON.stringify(beit.error)).toBe('succeeded');
    const beitResult = beit.result as { model: ModelRecordResult; report: { sourceLayout: string; dropped: string[] } };
    expect(beitResult.report).toMatchObject({ sourceLayout: 'usfm', dropped: ['rel_pos_bias.relative_position_index'] });
    expect(beit.progress).toMatchObject({ phase: 'writing', step: 1, total: 1 });
    beitId = beitResult.model.id;

    const timm = await importFile(path.join(fixtures, 'vit_timm_weights_mae_style.pth'), 'MAE reference', { layout: 'mae' });
    expect(timm.state, JSON.stringify(timm.error)).toBe('succeeded');
    timmId = (timm.result as { model: ModelRecordResult }).model.id;

    const models = await call<ModelRecordResult[]>('weights.list', {});
    expect(models.map((m) => m.id).sort()).toEqual([beitId, timmId].sort());
    const details = await call<ModelRecordResult & { paramCount: number; tensorCount: number; sizeBytes: number }>('weights.get', { id: beitId });
    expect(details).toMatchObject({ name: 'USFM reference', source: 'imported', layout: 'beit', tensorCount: 66 });
    const reference = openSafetensors(path.join(fixtures, 'vit_beit_weights.safetensors'));
    expect(details.paramCount).toBe([...reference.entries.values()].reduce((n, e) => n + e.shape.reduce((a, b) => a * b, 1), 0));
    reference.close();
    expect(fs.existsSync(path.join(dataDir, details.file))).toBe(true);
    expect((details.metadata.provenance as { importedFrom: string }).importedFrom).toBe('vit_beit_weights.pth');
  });

  it('exports files PyTorch loads with strict=True into timm / BEiT modules that reproduce the reference outputs', async () => {
    const timmOut = path.join(work, 'timm.safetensors');
    const beitOut = path.join(work, 'beit.safetensors');
    const timmExport = await call<{ fileName: string; tensors: number; bytes: number }>('weights.export', { id: timmId, out: timmOut, backboneOnly: true });
    expect(timmExport).toMatchObject({ fileName: 'timm.safetensors', tensors: 54 });
    const beitExport = await call<{ tensors: number }>('weights.export', { id: beitId, out: beitOut });
    expect(beitExport.tensors).toBe(67); // 66 parameters + the relative_position_index buffer the file came with
    const verified = runPythonJson<{ timm: Verified; beit: Verified }>(VERIFY, [timmOut, beitOut, fixtures]);
    for (const side of ['timm', 'beit'] as const) {
      const v = verified[side];
      expect(v.keys_equal, side).toBe(true);
      expect(v.bits_equal, side).toBe(true);
      expect(v.tokens_err, side).toBeLessThan(1e-5);
      expect(v.pooled_err, side).toBeLessThan(1e-5);
      expect(v.metadata).toMatchObject({ format: 'pt', usfm_workbench: '1', source: 'imported' });
    }
    expect(verified.beit.shapes['rel_pos_bias.relative_position_bias_table']).toEqual([172, 3]);
    expect(verified.beit.shapes['rel_pos_bias.relative_position_index']).toEqual([50, 50]);
  });

  it('refuses a malicious checkpoint: the job fails with UNSAFE_PICKLE, nothing is registered or executed', async () => {
    const marker = path.join(work, 'PWNED');
    runPython(
      String.raw`
import sys, os, torch
class Evil:
    def __reduce__(self): return (os.system, ('touch ' + sys.argv[2],))
torch.save({'model': {'w': torch.ones(2)}, 'x': Evil()}, sys.argv[1])
`,
      [path.join(work, 'evil.pth'), marker],
    );
    const before = (await call<ModelRecordResult[]>('weights.list', {})).length;
    const job = await importFile(path.join(work, 'evil.pth'), 'evil');
    expect(job.state).toBe('failed');
    expect(job.error?.code).toBe('UNSAFE_PICKLE');
    expect(job.error?.message).toMatch(/"(posix|os)\.system"/);
    expect(fs.existsSync(marker)).toBe(false);
    expect(await call<ModelRecordResult[]>('weights.list', {})).toHaveLength(before);
  });

  it('answers typed errors for missing files, unsupported types and unknown models; deletes models', async () => {
    expect(await dispatch(app, 'weights.import', { file: path.join(work, 'nope.pth'), name: 'x' })).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
    fs.writeFileSync(path.join(work, 'weights.txt'), 'hello');
    expect(await dispatch(app, 'weights.import', { file: path.join(work, 'weights.txt'), name: 'x' })).toMatchObject({ ok: false, error: { code: 'BAD_INPUT' } });
    const missing = await dispatch(app, 'weights.get', { id: 'mdl_doesnotexist' });
    expect(missing).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
    expect(JSON.stringify(missing)).not.toContain(work);
    expect(await dispatch(app, 'weights.export', { id: 'mdl_doesnotexist', out: path.join(work, 'x.safetensors') })).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
    expect(await call('weights.delete', { id: timmId })).toEqual({ id: timmId, deleted: true });
    expect(fs.existsSync(path.join(dataDir, 'models', timmId))).toBe(false);
    expect(await dispatch(app, 'weights.delete', { id: timmId })).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
  });

  it('a job can be followed through job.state events', async () => {
    const job = await call<JobRecord>('weights.import', { file: path.join(fixtures, 'vit_timm_weights.safetensors'), name: 'timm safetensors', imgSize: 224 });
    const done = await jobState(app, job.id, 'succeeded', 60_000);
    const { model, report } = done.result as { model: ModelRecordResult; report: { converted: string[]; sourceLayout: string } };
    expect(model.config.vit.imgSize).toBe(224);
    expect(report.sourceLayout).toBe('timm');
    expect(report.converted).toEqual(['pos_embed: 7x7 -> 14x14 grid, bicubic (timm resample_abs_pos_embed)']);
  });
});


describe('usfm weights (CLI)', () => {
  it('imports with --json progress lines, lists, exports and refuses bad usage', async () => {
    const { dir, cleanup } = tempDir('usfm-cli-weights-');
    try {
      const imp = await runCliCaptured(['weights', 'import', path.join(fixtures, 'vit_beit_weights.pth'), '--name', 'USFM', '--layout', 'usfm', '--json', '--data-dir', dir]);
      expect(imp.code, imp.stderr).toBe(0);
      const lines = jsonLines(imp.stdout);
      expect(lines[0]).toMatchObject({ type: 'job', kind: 'weights-import' });
      expect(lines.some((l) => l.type === 'progress' && l.phase === 'reading')).toBe(true);
      const result = lines.at(-1) as { type: string; ok: boolean; model: ModelRecordResult };
      expect(result).toMatchObject({ type: 'result', ok: true, model: { name: 'USFM', layout: 'beit' } });

      const list = await runCliCaptured(['weights', 'list', '--data-dir', dir]);
      expect(list.code).toBe(0);
      expect(list.stdout).toContain(result.model.id);
      expect(list.stdout).toMatch(/imported\s+beit\s+backbone\s+192d x4 112px\s+USFM/);

      const out = path.join(dir, 'usfm.safetensors');
      const exp = await runCliCaptured(['weights', 'export', result.model.id, '--out', out, '--data-dir', dir]);
      expect(exp.code).toBe(0);
      expect(exp.stdout).toMatch(/67 tensors/);
      expect(fs.statSync(out).size).toBeGreaterThan(7_000_000);

      const usage = await runCliCaptured(['weights', 'import', path.join(fixtures, 'vit_beit_weights.pth'), '--data-dir', dir]);
      expect(usage.code).toBe(2);
      expect(usage.stderr).toMatch(/--name is required/);
      const refused = await runCliCaptured(['weights', 'import', path.join(fixtures, 'vit_beit_weights.pth'), '--name', 'x', '--layout', 'timm', '--data-dir', dir]);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/IMPORT_REFUSED: --layout timm does not fit this file/);
    } finally {
      cleanup();
    }
  });
});
