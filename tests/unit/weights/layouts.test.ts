import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImportRefusedError, normaliseWeights, type NormaliseOptions } from '../../../main/weights/layouts';
import { openWeightsFile, type LazyTensor, type WeightsFile } from '../../../main/weights/weights-file';
import { readSafetensors } from '../../../main/weights/safetensors';
import { sharedDir, tempDir } from '../../helpers/temp';
import { maxAbsDiff, PY_SAFETENSORS_WRITER, readFloatTensors, runPython } from './python-helper';

const fixtures = path.join(sharedDir, 'reference', 'fixtures');
let dir: string;
let cleanup: () => void;

// Checkpoints in the layouts the import must read, written by PyTorch, and the tensors PyTorch computes
// for them at another image size (timm's resample_abs_pos_embed / resize_rel_pos_bias_table, MAE's sin-cos).
const GENERATE =
  PY_SAFETENSORS_WRITER +
  String.raw`
import sys, math, argparse, collections, torch
import torch.nn.functional as F
fx, out = sys.argv[1], sys.argv[2]
beit = torch.load(f'{fx}/vit_beit_weights.pth')
timm = torch.load(f'{fx}/vit_timm_weights_mae_style.pth')['model']
depth, g = 4, 7
table = beit['rel_pos_bias.relative_position_bias_table']
index = beit['rel_pos_bias.relative_position_index']

# USFM with the shared table copied into every block (as USFM's fine-tuning loader leaves it), DDP prefix.
per_block = collections.OrderedDict()
for k, v in beit.items():
    if k.startswith('rel_pos_bias.'): continue
    per_block['module.' + k] = v
for i in range(depth):
    per_block[f'module.blocks.{i}.attn.relative_position_bias_table'] = table.clone()
    per_block[f'module.blocks.{i}.attn.relative_position_index'] = index.clone()
torch.save(per_block, f'{out}/usfm_per_block.pth')
differ = collections.OrderedDict((k, v) for k, v in per_block.items())
for i in range(depth):
    differ[f'module.blocks.{i}.attn.relative_position_bias_table'] = table + 0.01 * i
torch.save(differ, f'{out}/usfm_per_block_differ.pth')

# An MAE pretraining checkpoint: sin-cos tables, decoder kept, training state around it.
def get_1d(d, pos):
    import numpy as np
    om = np.arange(d // 2, dtype=np.float64); om /= d / 2.; om = 1. / 10000 ** om
    o = np.einsum('m,d->md', pos.reshape(-1), om)
    return np.concatenate([np.sin(o), np.cos(o)], axis=1)
def sincos(d, n):
    import numpy as np
    gh = np.arange(n, dtype=np.float32); gw = np.arange(n, dtype=np.float32)
    grid = np.stack(np.meshgrid(gw, gh), axis=0).reshape([2, 1, n, n])
    e = np.concatenate([get_1d(d // 2, grid[0]), get_1d(d // 2, grid[1])], axis=1)
    return torch.from_numpy(np.concatenate([np.zeros([1, d]), e], axis=0)).float().unsqueeze(0)
gen = torch.Generator().manual_seed(5)
r = lambda *s: torch.randn(*s, generator=gen) * 0.02
mae = collections.OrderedDict((k, v) for k, v in timm.items())
mae['pos_embed'] = sincos(192, g)
dd = 128
mae['mask_token'] = r(1, 1, dd)
mae['decoder_embed.weight'] = r(dd, 192); mae['decoder_embed.bias'] = r(dd)
mae['decoder_pos_embed'] = sincos(dd, g)
for i in range(2):
    p = f'decoder_blocks.{i}.'
    for n, s in [('norm1.weight', (dd,)), ('norm1.bias', (dd,)), ('attn.qkv.weight', (3 * dd, dd)), ('attn.qkv.bias', (3 * dd,)),
                 ('attn.proj.weight', (dd, dd)), ('attn.proj.bias', (dd,)), ('norm2.weight', (dd,)), ('norm2.bias', (dd,)),
                 ('mlp.fc1.weight', (4 * dd, dd)), ('mlp.fc1.bias', (4 * dd,)), ('mlp.fc2.weight', (dd, 4 * dd)), ('mlp.fc2.bias', (dd,))]:
        mae[p + n] = r(*s)
mae['decoder_norm.weight'] = 1 + r(dd); mae['decoder_norm.bias'] = r(dd)
mae['decoder_pred.weight'] = r(16 * 16 * 3, dd); mae['decoder_pred.bias'] = r(16 * 16 * 3)
args = argparse.Namespace(model='mae_vit_tiny', mask_ratio=0.75, norm_pix_loss=True)
torch.save({'model': mae, 'optimizer': {'state': {}, 'param_groups': [{'lr': 1e-4, 'params': [0, 1]}]}, 'epoch': 9, 'args': args}, f'{out}/mae_full.pth')

# What PyTorch computes at 224 px (14x14 patches).
def resample(posemb, n):
    hw = int(math.sqrt(posemb.shape[1] - 1))
    grid = posemb[:, 1:].reshape(1, hw, hw, -1).permute(0, 3, 1, 2)
    grid = F.interpolate(grid, size=(n, n), mode='bicubic', align_corners=False, antialias=False)
    return torch.cat([posemb[:, :1], grid.permute(0, 2, 3, 1).reshape(1, n * n, -1)], dim=1)
def resize_table(t, old, new):
    src, dst = 2 * old - 1, 2 * new - 1
    body = t[:-3].transpose(1, 0).reshape(1, -1, src, src)
    body = F.interpolate(body, size=(dst, dst), mode='bicubic', align_corners=False)
    return torch.cat([body.reshape(-1, dst * dst).transpose(0, 1), t[-3:]], dim=0)
save_safetensors(f'{out}/expected_224.safetensors', {
    'timm.pos_embed': resample(timm['pos_embed'], 14), 'beit.table': resize_table(table, 7, 14),
    'mae.pos_embed': sincos(192, 14), 'mae.decoder_pos_embed': sincos(dd, 14)})
print('ok')
`;

beforeAll(() => {
  ({ dir, cleanup } = tempDir('usfm-layouts-'));
  runPython(GENERATE, [fixtures, dir]);
});
afterAll(() => cleanup());

async function normalise(file: string, options: NormaliseOptions = {}) {
  const weights = await openWeightsFile(file);
  try {
    return await normaliseWeights(weights, options);
  } finally {
    weights.close();
  }
}

/** A state dict held in memory, as openWeightsFile presents a file. */
function memoryFile(tensors: Map<string, { shape: number[]; data: Float32Array }>, extra: Partial<WeightsFile> = {}): WeightsFile {
  const lazy = new Map<string, LazyTensor>([...tensors].map(([k, t]) => [k, { shape: t.shape, dtype: 'F32', read: async () => t.data.slice() }]));
  return { format: 'safetensors', tensors: lazy, metadata: {}, wrapperKey: null, otherKeys: [], nonTensorKeys: [], close: () => undefined, ...extra };
}

function fixtureTensors(name: string): Map<string, { shape: number[]; data: Float32Array }> {
  return readFloatTensors(path.join(fixtures, name));
}

const bitsEqual = (a: Float32Array, b: Uint8Array): boolean => Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b)) === 0;

describe('the reference checkpoints', () => {
  for (const [pth, safetensors, layout] of [
    ['vit_beit_weights.pth', 'vit_beit_weights.safetensors', 'usfm'],
    ['vit_timm_weights_mae_style.pth', 'vit_timm_weights.safetensors', 'mae'],
  ] as const) {
    it(`${pth}: every tensor equals ${safetensors} bit for bit, read raw and after normalisation`, async () => {
      const reference = readSafetensors(path.join(fixtures, safetensors));
      const file = await openWeightsFile(path.join(fixtures, pth));
      try {
        for (const [name, t] of reference.tensors) {
          const lazy = file.tensors.get(name);
          expect(lazy, name).toBeDefined();
          expect(lazy!.shape).toEqual(t.shape);
          expect(bitsEqual(await lazy!.read(), t.bytes), name).toBe(true);
        }
        const { tensors, report } = await normaliseWeights(file);
        expect([...tensors.keys()].sort()).toEqual([...reference.tensors.keys()].sort());
        for (const [name, t] of tensors) expect(bitsEqual(t.data, reference.tensors.get(name)!.bytes), name).toBe(true);
        expect(report.sourceLayout).toBe(layout);
        expect(report.unexpected).toEqual([]);
        expect(report.missing).toEqual([]);
      } finally {
        file.close();
      }
    });
  }

  it('infers the ViT configuration from the shapes', async () => {
    const beit = await normalise(path.join(fixtures, 'vit_beit_weights.pth'));
    expect(beit.config.vit).toMatchObject({ layout: 'beit', embedDim: 192, depth: 4, numHeads: 3, patchSize: 16, imgSize: 112, mlpRatio: 4, pooling: 'mean', maskToken: false });
    expect(beit.config.relPosBias).toBe('shared');
    expect(beit.report.dropped).toEqual(['rel_pos_bias.relative_position_index']);
    const timm = await normalise(path.join(fixtures, 'vit_timm_weights_mae_style.pth'));
    expect(timm.config.vit).toMatchObject({ layout: 'timm', embedDim: 192, depth: 4, numHeads: 3, imgSize: 112, pooling: 'cls', posEmbed: 'learned' });
    expect(timm.report.wrapperKey).toBe('model');
    expect(timm.config.decoder).toBeUndefined();
  });
});

describe('USFM layouts', () => {
  it('collapses identical per-block tables into the shared one, drops the index buffers and the DDP prefix', async () => {
    const { config, tensors, report } = await normalise(path.join(dir, 'usfm_per_block.pth'));
    const reference = readSafetensors(path.join(fixtures, 'vit_beit_weights.safetensors'));
    expect(report.prefix).toBe('module.');
    expect(config.relPosBias).toBe('shared');
    expect(report.dropped.filter((d) => d.endsWith('relative_position_index'))).toHaveLength(4);
    expect(report.converted[0]).toMatch(/4 identical per-block relative position tables/);
    expect([...tensors.keys()].sort()).toEqual([...reference.tensors.keys()].sort());
    for (const [name, t] of tensors) expect(bitsEqual(t.data, reference.tensors.get(name)!.bytes), name).toBe(true);
  });

  it('keeps differing per-block tables per block, with a warning', async () => {
    const { config, tensors, report } = await normalise(path.join(dir, 'usfm_per_block_differ.pth'));
    expect(config.relPosBias).toBe('per-block');
    expect(tensors.has('rel_pos_bias.relative_position_bias_table')).toBe(false);
    expect(tensors.get('blocks.2.attn.relative_position_bias_table')!.shape).toEqual([172, 3]);
    expect(report.warnings.join(' ')).toMatch(/per-block relative position tables differ/);
  });

  it('resizes the relative position table for 224 px as timm does (bicubic, CLS rows kept)', async () => {
    const expected = readFloatTensors(path.join(dir, 'expected_224.safetensors'));
    const { config, tensors, report } = await normalise(path.join(fixtures, 'vit_beit_weights.pth'), { imgSize: 224 });
    expect(config.vit.imgSize).toBe(224);
    const table = tensors.get('rel_pos_bias.relative_position_bias_table')!;
    expect(table.shape).toEqual([27 * 27 + 3, 3]);
    expect(maxAbsDiff(table.data, expected.get('beit.table')!.data)).toBeLessThan(2e-6);
    expect(report.converted.join(' ')).toMatch(/7x7 -> 14x14 grid, bicubic/);
  });
});

describe('MAE and timm layouts', () => {
  it('keeps the MAE decoder and recognises sin-cos tables', async () => {
    const { config, tensors, report } = await normalise(path.join(dir, 'mae_full.pth'));
    expect(report.sourceLayout).toBe('mae');
    expect(config.vit.posEmbed).toBe('sincos');
    expect(config.decoder).toEqual({ embedDim: 128, depth: 2, numHeads: 16, mlpRatio: 4, posEmbed: 'sincos', outChans: 3 });
    expect(tensors.get('mask_token')!.shape).toEqual([1, 1, 128]);
    expect(tensors.get('decoder_pred.weight')!.shape).toEqual([768, 128]);
    expect(tensors.has('decoder_blocks.1.mlp.fc2.bias')).toBe(true);
    const noDecoder = await normalise(path.join(dir, 'mae_full.pth'), { keepDecoder: false });
    expect(noDecoder.config.decoder).toBeUndefined();
    expect([...noDecoder.tensors.keys()].some((k) => k.startsWith('decoder') || k === 'mask_token')).toBe(false);
  });

  it('regenerates sin-cos tables and resizes learned ones bicubically at 224 px, equal to PyTorch', async () => {
    const expected = readFloatTensors(path.join(dir, 'expected_224.safetensors'));
    const mae = await normalise(path.join(dir, 'mae_full.pth'), { imgSize: 224 });
    expect(mae.tensors.get('pos_embed')!.shape).toEqual([1, 197, 192]);
    expect(maxAbsDiff(mae.tensors.get('pos_embed')!.data, expected.get('mae.pos_embed')!.data)).toBeLessThan(1e-6);
    expect(maxAbsDiff(mae.tensors.get('decoder_pos_embed')!.data, expected.get('mae.decoder_pos_embed')!.data)).toBeLessThan(1e-6);
    expect(mae.report.converted.join(' ')).toMatch(/sin-cos table regenerated/);
    const timm = await normalise(path.join(fixtures, 'vit_timm_weights_mae_style.pth'), { imgSize: 224 });
    expect(maxAbsDiff(timm.tensors.get('pos_embed')!.data, expected.get('timm.pos_embed')!.data)).toBeLessThan(2e-6);
    expect(timm.report.converted.join(' ')).toMatch(/bicubic \(timm resample_abs_pos_embed\)/);
  });
});

describe('refusals and reports', () => {
  it('refuses when the backbone would be left partly uninitialised, listing what is missing', async () => {
    const tensors = fixtureTensors('vit_timm_weights.safetensors');
    tensors.delete('blocks.3.mlp.fc2.weight');
    tensors.delete('norm.bias');
    const err = await normaliseWeights(memoryFile(tensors)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ImportRefusedError);
    expect((err as Error).message).toMatch(/backbone would be left partly uninitialised/);
    expect((err as ImportRefusedError).details.missing).toEqual(['blocks.3.mlp.fc2.weight', 'norm.bias']);
  });

  it('refuses backbone parameters this ViT does not have (another architecture)', async () => {
    const tensors = fixtureTensors('vit_timm_weights.safetensors');
    tensors.set('blocks.0.ls1.gamma', { shape: [192], data: new Float32Array(192) });
    await expect(normaliseWeights(memoryFile(tensors))).rejects.toThrow(/parameters this ViT does not .*blocks\.0\.ls1\.gamma/);
  });

  it('lists unexpected heads and decoders outside the backbone, and imports the rest', async () => {
    const tensors = fixtureTensors('vit_beit_weights.safetensors');
    const simmim = new Map([...tensors].map(([k, t]) => [`encoder.${k}`, t]));
    simmim.set('encoder.head.weight', { shape: [2, 192], data: new Float32Array(384) });
    simmim.set('decoder.0.weight', { shape: [768, 192, 1, 1], data: new Float32Array(768 * 192) });
    const { tensors: out, report } = await normaliseWeights(memoryFile(simmim, { wrapperKey: 'model' }));
    expect(report.prefix).toBe('encoder.');
    expect(report.unexpected).toEqual(['encoder.head.weight', 'decoder.0.weight']);
    expect(out.size).toBe(tensors.size);
  });

  it('refuses a --layout that contradicts the names, and files that are not ViTs', async () => {
    await expect(normalise(path.join(fixtures, 'vit_beit_weights.pth'), { layout: 'timm' })).rejects.toThrow(/--layout timm does not fit this file: .*BEiT\/USFM names/);
    await expect(normalise(path.join(fixtures, 'vit_timm_weights.safetensors'), { layout: 'usfm' })).rejects.toThrow(/timm\/MAE names/);
    const forced = await normalise(path.join(fixtures, 'vit_timm_weights.safetensors'), { layout: 'timm' });
    expect(forced.report.sourceLayout).toBe('timm');
    const linear = new Map([['0.weight', { shape: [3, 4], data: new Float32Array(12) }]]);
    await expect(normaliseWeights(memoryFile(linear))).rejects.toThrow(/no ViT patch embedding/);
  });

  it('refuses an image size that is not a multiple of the patch size', async () => {
    await expect(normalise(path.join(fixtures, 'vit_timm_weights.safetensors'), { imgSize: 200 })).rejects.toThrow(/not a multiple of the checkpoint's 16 px patches/);
  });

  it('adds a zero CLS row to patch-only position tables and spreads a grey patch embedding over 3 channels', async () => {
    const tensors = fixtureTensors('vit_timm_weights.safetensors');
    const pos = tensors.get('pos_embed')!;
    tensors.set('pos_embed', { shape: [1, 49, 192], data: pos.data.slice(192) });
    const w = tensors.get('patch_embed.proj.weight')!;
    const grey = new Float32Array(192 * 256);
    for (let o = 0; o < 192; o++) for (let k = 0; k < 256; k++) grey[o * 256 + k] = w.data[o * 768 + k]!;
    tensors.set('patch_embed.proj.weight', { shape: [192, 1, 16, 16], data: grey });
    const { tensors: out, report } = await normaliseWeights(memoryFile(tensors));
    expect(Array.from(out.get('pos_embed')!.data.subarray(0, 192))).toEqual(new Array(192).fill(0));
    expect(Array.from(out.get('pos_embed')!.data.subarray(192))).toEqual(Array.from(pos.data.subarray(192)));
    const spread = out.get('patch_embed.proj.weight')!;
    expect(spread.shape).toEqual([192, 3, 16, 16]);
    expect(spread.data[2 * 256 + 5]).toBeCloseTo(grey[5]! / 3, 7);
    expect(report.converted).toHaveLength(2);
  });
});

