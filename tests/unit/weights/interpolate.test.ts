import { beforeAll, describe, expect, it } from 'vitest';
import { bicubicResizeChannelsLast, isSincosPosEmbed, resampleAbsPosEmbed, resizeRelPosBiasTable, sincosPosEmbed2d } from '../../../main/weights/interpolate';
import { maxAbsDiff, runPythonJson } from './python-helper';

interface Reference {
  image: { shape: number[]; values: number[] };
  resized: Record<string, number[]>;
  posEmbed: number[];
  posEmbedResized: Record<string, number[]>;
  table: number[];
  tableResized: Record<string, number[]>;
  sincos: Record<string, number[]>;
}

// PyTorch's own computations: F.interpolate bicubic (align_corners=False, no antialias), timm's
// resample_abs_pos_embed and resize_rel_pos_bias_table written out as timm does, MAE's numpy sin-cos table.
const REFERENCE = String.raw`
import json, math, torch, numpy as np
import torch.nn.functional as F
g = torch.Generator().manual_seed(3)
x = torch.randn(1, 5, 7, 7, generator=g)
out = {'image': {'shape': [7, 7, 5], 'values': x[0].permute(1, 2, 0).flatten().tolist()}, 'resized': {}}
for h, w in [(14, 14), (11, 11), (4, 4), (3, 5), (7, 7), (1, 1), (20, 9)]:
    y = F.interpolate(x, size=(h, w), mode='bicubic', align_corners=False)
    out['resized'][f'{h}x{w}'] = y[0].permute(1, 2, 0).flatten().tolist()

def resample_abs_pos_embed(posemb, new_size, num_prefix_tokens=1):
    # timm.layers.pos_embed.resample_abs_pos_embed with interpolation='bicubic', antialias=False
    hw = int(math.sqrt(posemb.shape[1] - num_prefix_tokens))
    prefix, grid = posemb[:, :num_prefix_tokens], posemb[:, num_prefix_tokens:]
    grid = grid.reshape(1, hw, hw, -1).permute(0, 3, 1, 2)
    grid = F.interpolate(grid, size=new_size, mode='bicubic', antialias=False, align_corners=False)
    grid = grid.permute(0, 2, 3, 1).reshape(1, -1, posemb.shape[-1])
    return torch.cat([prefix, grid], dim=1)
pos = torch.randn(1, 1 + 49, 12, generator=g) * 0.02
out['posEmbed'] = pos.flatten().tolist()
out['posEmbedResized'] = {str(n): resample_abs_pos_embed(pos, (n, n)).flatten().tolist() for n in (14, 4, 10)}

def resize_rel_pos_bias_table(table, old_g, new_g, extra=3):
    # timm.layers.pos_embed_rel.resize_rel_pos_bias_table for a (num_pos, heads) table
    src, dst = 2 * old_g - 1, 2 * new_g - 1
    extra_rows, body = table[-extra:], table[:-extra]
    body = body.transpose(1, 0).reshape(1, -1, src, src)
    body = F.interpolate(body, size=(dst, dst), mode='bicubic', align_corners=False)
    body = body.reshape(-1, dst * dst).transpose(0, 1)
    return torch.cat([body, extra_rows], dim=0)
table = torch.randn(13 * 13 + 3, 3, generator=g) * 0.5
out['table'] = table.flatten().tolist()
out['tableResized'] = {str(n): resize_rel_pos_bias_table(table, 7, n).flatten().tolist() for n in (14, 5)}

def get_1d(embed_dim, pos):
    omega = np.arange(embed_dim // 2, dtype=np.float64); omega /= embed_dim / 2.; omega = 1. / 10000 ** omega
    o = np.einsum('m,d->md', pos.reshape(-1), omega)
    return np.concatenate([np.sin(o), np.cos(o)], axis=1)
def get_2d_sincos_pos_embed(embed_dim, grid_size, cls_token=False):
    # MAE util/pos_embed.py
    grid_h = np.arange(grid_size, dtype=np.float32); grid_w = np.arange(grid_size, dtype=np.float32)
    grid = np.stack(np.meshgrid(grid_w, grid_h), axis=0).reshape([2, 1, grid_size, grid_size])
    emb = np.concatenate([get_1d(embed_dim // 2, grid[0]), get_1d(embed_dim // 2, grid[1])], axis=1)
    if cls_token: emb = np.concatenate([np.zeros([1, embed_dim]), emb], axis=0)
    return emb
out['sincos'] = {f'{d}x{n}': torch.from_numpy(get_2d_sincos_pos_embed(d, n, True)).float().flatten().tolist() for d, n in ((16, 3), (192, 7), (768, 14))}
print(json.dumps(out))
`;

let ref: Reference;
beforeAll(() => {
  ref = runPythonJson<Reference>(REFERENCE);
});

const TOL = 2e-6; // float32 (PyTorch) vs float64 (here) accumulation

describe('bicubic resize equals torch.nn.functional.interpolate(mode="bicubic", align_corners=False)', () => {
  it('for up-, down- and non-square sizes', () => {
    const src = Float32Array.from(ref.image.values);
    for (const [size, want] of Object.entries(ref.resized)) {
      const [h, w] = size.split('x').map(Number) as [number, number];
      const got = bicubicResizeChannelsLast(src, 7, 7, 5, h, w);
      expect(maxAbsDiff(got, want), size).toBeLessThan(TOL);
    }
  });

  it('for pos_embed as timm resample_abs_pos_embed (CLS row kept, antialias off)', () => {
    const pos = Float32Array.from(ref.posEmbed);
    for (const [n, want] of Object.entries(ref.posEmbedResized)) {
      const g = Number(n);
      const got = resampleAbsPosEmbed(pos, 12, [7, 7], [g, g], 1);
      expect(got.length).toBe((1 + g * g) * 12);
      expect(Array.from(got.subarray(0, 12))).toEqual(Array.from(pos.subarray(0, 12)));
      expect(maxAbsDiff(got, want), n).toBeLessThan(TOL);
    }
  });

  it('for relative position tables as timm resize_rel_pos_bias_table (3 CLS rows kept)', () => {
    const table = Float32Array.from(ref.table);
    for (const [n, want] of Object.entries(ref.tableResized)) {
      const g = Number(n);
      const got = resizeRelPosBiasTable(table, 3, 7, g);
      expect(got.length).toBe(((2 * g - 1) ** 2 + 3) * 3);
      expect(Array.from(got.subarray(got.length - 9))).toEqual(Array.from(table.subarray(table.length - 9)));
      expect(maxAbsDiff(got, want), n).toBeLessThan(TOL);
    }
  });
});

describe('sin-cos position embedding', () => {
  it("equals MAE's get_2d_sincos_pos_embed and is recognised as such", () => {
    for (const [key, want] of Object.entries(ref.sincos)) {
      const [d, n] = key.split('x').map(Number) as [number, number];
      const got = sincosPosEmbed2d(d, n, true);
      expect(maxAbsDiff(got, want), key).toBeLessThan(1e-6);
      expect(isSincosPosEmbed(Float32Array.from(want), d, n)).toBe(true);
    }
    expect(isSincosPosEmbed(Float32Array.from(ref.posEmbed), 12, 7)).toBe(false);
  });
});
