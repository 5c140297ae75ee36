#!/usr/bin/python3
"""The workbench's pretraining step in PyTorch, for `npm run bench` (tests/bench/pretrain.ts).

Reads one safetensors file written by the TypeScript side: the model's initial weights under their PyTorch
names, the batch (grey images in [0, 1]), the masks and band-stop masks of that step, and a JSON config in
the metadata. Builds the same model (timm/MAE or BEiT/USFM ViT with the grey patch embedding folded, MAE
decoder or USFM linear head), runs the same loss, clipping and AdamW update, and prints one JSON line:
{"imagesPerSecond", "stepMs", "firstLoss", "threads", "torch"}.

Run with /usr/bin/python3 (Debian's python3-torch) and OMP_WAIT_POLICY=PASSIVE; threads = --threads.
Debian's python3-torch does its products through whatever libblas.so.3 the system provides: the reference
BLAS (libblas3) is ~30x slower than OpenBLAS, so the BLAS in use is reported.
"""
import json
import math
import struct
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

INPUT_MEAN, INPUT_STD = 0.449, 0.226


def read_safetensors(path):
    with open(path, 'rb') as f:
        n = struct.unpack('<Q', f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    meta = header.pop('__metadata__', {})
    dtypes = {'F32': np.float32, 'I32': np.int32, 'U8': np.uint8}
    out = {}
    for name, e in header.items():
        a, b = e['data_offsets']
        arr = np.frombuffer(data[a:b], dtype=dtypes[e['dtype']]).reshape(e['shape'])
        out[name] = torch.from_numpy(arr.copy())
    return out, meta


def layer_norm(x, w, b):
    return F.layer_norm(x, (x.shape[-1],), w, b, eps=1e-6)


def attention(h, p, prefix, heads, bias, layout):
    B, N, D = h.shape
    if layout == 'beit':
        qkv_b = torch.cat([p[prefix + 'attn.q_bias'], torch.zeros_like(p[prefix + 'attn.q_bias']), p[prefix + 'attn.v_bias']])
    else:
        qkv_b = p[prefix + 'attn.qkv.bias']
    qkv = F.linear(h, p[prefix + 'attn.qkv.weight'], qkv_b).reshape(B, N, 3, heads, D // heads).permute(2, 0, 3, 1, 4)
    q, k, v = qkv[0], qkv[1], qkv[2]
    a = (q * (D // heads) ** -0.5) @ k.transpose(-2, -1)
    if bias is not None:
        a = a + bias
    a = a.softmax(-1)
    return F.linear((a @ v).transpose(1, 2).reshape(B, N, D), p[prefix + 'attn.proj.weight'], p[prefix + 'attn.proj.bias'])


def block(x, p, prefix, heads, layout, bias=None):
    h = attention(layer_norm(x, p[prefix + 'norm1.weight'], p[prefix + 'norm1.bias']), p, prefix, heads, bias, layout)
    x = x + (p[prefix + 'gamma_1'] * h if layout == 'beit' else h)
    h = layer_norm(x, p[prefix + 'norm2.weight'], p[prefix + 'norm2.bias'])
    h = F.linear(F.gelu(F.linear(h, p[prefix + 'mlp.fc1.weight'], p[prefix + 'mlp.fc1.bias'])), p[prefix + 'mlp.fc2.weight'], p[prefix + 'mlp.fc2.bias'])
    return x + (p[prefix + 'gamma_2'] * h if layout == 'beit' else h)


def rel_index(g):
    coords = torch.stack(torch.meshgrid(torch.arange(g), torch.arange(g), indexing='ij')).flatten(1)
    rel = (coords[:, :, None] - coords[:, None, :]).permute(1, 2, 0) + (g - 1)
    n_rel = (2 * g - 1) ** 2 + 3
    idx = torch.zeros(g * g + 1, g * g + 1, dtype=torch.long)
    idx[1:, 1:] = rel[..., 0] * (2 * g - 1) + rel[..., 1]
    idx[0, :] = n_rel - 3
    idx[:, 0] = n_rel - 2
    idx[0, 0] = n_rel - 1
    return idx


def patch_embed(p, x):
    # Grey input: the 3-channel patch conv folded by summing over its input channels.
    w = p['patch_embed.proj.weight'].sum(1, keepdim=True)
    return F.conv2d(x, w, p['patch_embed.proj.bias'], stride=16).flatten(2).transpose(1, 2)


def patchify(imgs):
    B, C, H, W = imgs.shape
    g = H // 16
    return imgs.reshape(B, C, g, 16, g, 16).permute(0, 2, 4, 3, 5, 1).reshape(B, g * g, 256 * C)


def unpatchify(x, g):
    B = x.shape[0]
    return x.reshape(B, g, g, 16, 16, 1).permute(0, 5, 1, 3, 2, 4).reshape(B, 1, g * 16, g * 16)


def gaussian_window(size=11, sigma=1.5):
    c = torch.arange(size, dtype=torch.float64) - size // 2
    g = torch.exp(-c ** 2 / (2 * sigma ** 2))
    g = g / g.sum()
    return (g[:, None] * g[None, :]).float()[None, None]


def ssim(a, b, w):
    C1, C2 = 0.01 ** 2, 0.03 ** 2
    mu_a, mu_b = F.conv2d(a, w), F.conv2d(b, w)
    saa = F.conv2d(a * a, w) - mu_a ** 2
    sbb = F.conv2d(b * b, w) - mu_b ** 2
    sab = F.conv2d(a * b, w) - mu_a * mu_b
    m = ((2 * mu_a * mu_b + C1) * (2 * sab + C2)) / ((mu_a ** 2 + mu_b ** 2 + C1) * (saa + sbb + C2))
    return m.flatten(1).mean(1)


def spectrum(x):
    return torch.fft.fft2(x, norm='ortho').abs()


class Step:
    def __init__(self, tensors, cfg):
        self.cfg = cfg
        self.recipe = cfg['recipe']
        self.layout = cfg['layout']
        self.heads = cfg['heads']
        self.depth = cfg['depth']
        self.images = tensors.pop('batch.images')
        self.masked = tensors.pop('batch.masked')          # [B, N] 1 = masked
        self.loss_weight = tensors.pop('batch.lossWeight')  # [B, N]
        self.visible = tensors.pop('batch.visible', None)   # [B, K] int32 (MAE)
        self.band = tensors.pop('batch.bandMasks', None)    # [B, S, S] (frequency fill)
        self.params = {k: v.clone().requires_grad_(True) for k, v in tensors.items() if not k.endswith('pos_embed')}
        self.buffers = {k: v for k, v in tensors.items() if k.endswith('pos_embed')}
        decay = [v for k, v in self.params.items() if cfg['decays'][k]]
        no_decay = [v for k, v in self.params.items() if not cfg['decays'][k]]
        self.opt = torch.optim.AdamW([{'params': decay, 'weight_decay': cfg['weightDecay']}, {'params': no_decay, 'weight_decay': 0.0}],
                                     lr=cfg['lr'], betas=(cfg['beta1'], cfg['beta2']), eps=1e-8)
        self.window = gaussian_window()
        self.g = cfg['img'] // 16
        if self.layout == 'beit':
            self.rel_idx = rel_index(self.g).view(-1)

    def p(self):
        return {**self.params, **self.buffers}

    def encoder_blocks(self, p, x):
        bias = None
        if self.layout == 'beit':
            T = x.shape[1]
            table = p['rel_pos_bias.relative_position_bias_table']
            bias = table[self.rel_idx].view(T, T, -1).permute(2, 0, 1).unsqueeze(0)
        for i in range(self.depth):
            x = block(x, p, f'blocks.{i}.', self.heads, self.layout, bias)
        return x

    def loss(self):
        p = self.p()
        x = self.images
        B = x.shape[0]
        if self.recipe == 'mae':
            t = patch_embed(p, (x - INPUT_MEAN) / INPUT_STD) + p['pos_embed'][:, 1:, :]
            ids_keep = self.visible.long()
            t = torch.gather(t, 1, ids_keep.unsqueeze(-1).repeat(1, 1, t.shape[-1]))
            cls = p['cls_token'] + p['pos_embed'][:, :1, :]
            t = torch.cat([cls.expand(B, -1, -1), t], 1)
            t = self.encoder_blocks(p, t)
            t = layer_norm(t, p['norm.weight'], p['norm.bias'])
            # MAE decoder: embed, mask tokens, unshuffle (scatter the visible tokens back), fixed positions.
            d = F.linear(t, p['decoder_embed.weight'], p['decoder_embed.bias'])
            N = self.masked.shape[1]
            full = p['mask_token'].expand(B, N, -1).clone()
            full = full.scatter(1, ids_keep.unsqueeze(-1).repeat(1, 1, d.shape[-1]), d[:, 1:, :])
            d = torch.cat([d[:, :1, :], full], 1) + p['decoder_pos_embed']
            for i in range(self.cfg['decoderDepth']):
                d = block(d, p, f'decoder_blocks.{i}.', self.cfg['decoderHeads'], 'timm')
            d = layer_norm(d, p['decoder_norm.weight'], p['decoder_norm.bias'])
            pred = F.linear(d, p['decoder_pred.weight'], p['decoder_pred.bias'])[:, 1:, :]
            target = patchify(x)
            target = (target - target.mean(-1, keepdim=True)) / (target.var(-1, keepdim=True) + 1e-6) ** 0.5
            per_patch = ((pred - target) ** 2).mean(-1)
            return (per_patch * self.loss_weight).sum() / self.loss_weight.sum()
        m_px = unpatchify(self.masked[:, :, None].expand(-1, -1, 256), self.g)
        w_px = unpatchify(self.loss_weight[:, :, None].expand(-1, -1, 256), self.g)
        fill = self.cfg['fill']
        if fill == 'frequency':
            corrupted = torch.fft.ifft2(torch.fft.fft2(x) * self.band[:, None]).abs()
            inp = (1 - m_px) * x + m_px * corrupted
        elif fill == 'mean':
            inp = (1 - m_px) * x + m_px * x.mean((1, 2, 3), keepdim=True)
        else:
            inp = x
        t = patch_embed(p, (inp - INPUT_MEAN) / INPUT_STD)
        if fill == 'token':
            m = self.masked[:, :, None]
            t = t * (1 - m) + p['mask_token'] * m
        if self.layout == 'timm':
            t = t + p['pos_embed'][:, 1:, :]
            cls = p['cls_token'] + p['pos_embed'][:, :1, :]
        else:
            cls = p['cls_token']
        t = torch.cat([cls.expand(B, -1, -1), t], 1)
        t = self.encoder_blocks(p, t)
        if self.layout == 'timm':
            t = layer_norm(t, p['norm.weight'], p['norm.bias'])
        pred = unpatchify(F.linear(t[:, 1:, :], p['decoder_pred.weight'], p['decoder_pred.bias']), self.g)
        composite = x + m_px * (pred - x)
        l1 = ((pred - x).abs() * w_px).sum((1, 2, 3)) / (w_px.sum((1, 2, 3)) + 1e-5)
        if self.recipe == 'usfm':
            freq = ((spectrum(composite) - spectrum(x)) ** 2).flatten(1).mean(1)
            return (l1 + self.cfg['alpha'] * freq).mean()
        s = ssim(composite, x, self.window)
        lsd = ((torch.log(spectrum(composite) + 1e-3) - torch.log(spectrum(x) + 1e-3)) ** 2).flatten(1).mean(1).sqrt()
        return (0.5 * (1 - s) + 0.5 * l1 + 0.1 * lsd).mean()

    def step(self):
        self.opt.zero_grad(set_to_none=True)
        loss = self.loss()
        loss.backward()
        if self.cfg['clipNorm'] > 0:
            torch.nn.utils.clip_grad_norm_(list(self.params.values()), self.cfg['clipNorm'])
        self.opt.step()
        return float(loss)


def blas_library():
    """The BLAS shared library this process loaded (PyTorch's matrix products go through it on Debian)."""
    try:
        with open('/proc/self/maps') as f:
            libs = {line.split()[-1] for line in f if 'blas' in line.lower() and '.so' in line}
        return sorted(libs)[0] if libs else 'unknown'
    except OSError:
        return 'unknown'


def main():
    path = sys.argv[1]
    threads = int(sys.argv[sys.argv.index('--threads') + 1]) if '--threads' in sys.argv else 1
    steps = int(sys.argv[sys.argv.index('--steps') + 1]) if '--steps' in sys.argv else 3
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    tensors, meta = read_safetensors(path)
    cfg = json.loads(meta['config'])
    s = Step(tensors, cfg)
    first = s.step()  # warm-up (and the loss on the initial weights, to compare with the TypeScript step)
    s.step()
    t0 = time.perf_counter()
    for _ in range(steps):
        s.step()
    dt = (time.perf_counter() - t0) / steps
    batch = s.images.shape[0]
    print(json.dumps({'imagesPerSecond': batch / dt, 'stepMs': dt * 1000, 'firstLoss': first, 'threads': torch.get_num_threads(), 'torch': torch.__version__, 'blas': blas_library()}))


if __name__ == '__main__':
    main()
