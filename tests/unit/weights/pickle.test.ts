import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NamespaceObject, PickleFormatError, TensorRef, UnsafePickleError, unpickle } from '../../../main/weights/pickle';
import { openTorchCheckpoint, TorchCheckpointError } from '../../../main/weights/torch-checkpoint';
import { openWeightsFile } from '../../../main/weights/weights-file';
import { tempDir } from '../../helpers/temp';
import { runPython } from './python-helper';

let dir: string;
let cleanup: () => void;
const marker = (): string => path.join(dir, 'PWNED');

// One Python run writes every pickle the tests read: plain data in each protocol, malicious pickles
// (pickle protocols 0/2/4 and torch.save zips), and valid checkpoints with views, dtypes and training state.
const GENERATE = String.raw`
import sys, os, io, pickle, argparse, collections, subprocess, builtins, json
import torch
out, marker = sys.argv[1], sys.argv[2]
plain = {'a': 1, 'neg': -5, 'i32': 2**31, 'big': 2**70, 'negbig': -2**40, 'f': 1.5, 's': 'héllo ☃', 'b': b'\x00\x01\xff',
         'n': None, 't': True, 'fl': False, 'l': [1, 2, [3]], 'tup': (1, 'x'), 'od': collections.OrderedDict([('k', 1), ('j', 2)]),
         'set': {7}, 'fs': frozenset([3]), 'nested': {'deep': [{'x': 0.25}]}}
for p in (0, 1, 2, 3, 4, 5):
    with open(f'{out}/plain_p{p}.pkl', 'wb') as f: pickle.dump(plain, f, protocol=p)

class EvilSystem:
    def __reduce__(self): return (os.system, ('touch ' + marker,))
class EvilEval:
    def __reduce__(self): return (builtins.eval, ("__import__('os').system('touch %s')" % marker,))
class EvilExec:
    def __reduce__(self): return (builtins.exec, ("open(%r, 'w').close()" % marker,))
class EvilPopen:
    def __reduce__(self): return (subprocess.Popen, (['touch', marker],))
class EvilGetattr:
    def __reduce__(self): return (getattr, ('text', 'upper'))
for name, obj in [('system', EvilSystem()), ('eval', EvilEval()), ('exec', EvilExec()), ('popen', EvilPopen()), ('getattr', EvilGetattr())]:
    for p in (0, 2, 4):
        with open(f'{out}/evil_{name}_p{p}.pkl', 'wb') as f: pickle.dump({'model': {'w': 1}, 'x': obj}, f, protocol=p)

sd = collections.OrderedDict(w=torch.ones(2, 3), b=torch.zeros(3))
torch.save({'model': sd, 'payload': EvilSystem()}, f'{out}/evil_system.pth')
class Net:
    def __init__(self): self.weight = torch.ones(2)
torch.save(Net(), f'{out}/evil_class.pth')
torch.save(torch.nn.Linear(2, 2), f'{out}/whole_module.pth')
torch.save(sd, f'{out}/legacy.pth', _use_new_zipfile_serialization=False)

base = torch.arange(24, dtype=torch.float32).reshape(4, 6) / 8 - 1
views = {'base': base, 'row': base[1], 'col': base[:, 2], 't': base.t(), 'slice': base[1:3, 2:5], 'scalar': torch.tensor(3.5),
         'half': (base / 3).half(), 'bf16': (base / 3).bfloat16(), 'f64': (base / 3).double(), 'i64': torch.arange(-2, 3),
         'u8': torch.arange(5, dtype=torch.uint8), 'bool': torch.tensor([True, False]), 'param': torch.nn.Parameter(torch.full((3,), 0.5)), 'empty': torch.zeros(0, 4)}
torch.save(views, f'{out}/views.pth')
expected = {k: {'shape': list(v.shape), 'values': v.detach().double().flatten().tolist()} for k, v in views.items()}
json.dump(expected, open(f'{out}/views.json', 'w'))

# A checkpoint as MAE's / BEiT's training loop writes it: model, optimizer state, scaler, epoch, argparse args.
model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.LayerNorm(3))
opt = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.95))
model(torch.randn(2, 4)).sum().backward(); opt.step()
args = argparse.Namespace(model='mae_vit_base_patch16', lr=None, blr=1.5e-4, mask_ratio=0.75, norm_pix_loss=True, input_size=224)
torch.save({'model': model.state_dict(), 'optimizer': opt.state_dict(), 'epoch': 3, 'scaler': {'scale': 65536.0, '_growth_tracker': 0}, 'args': args},
           f'{out}/training_ckpt.pth')
torch.save(model.state_dict(), f'{out}/training_ckpt_ref.pth')
print('ok')
`;

beforeAll(() => {
  ({ dir, cleanup } = tempDir('usfm-pickle-'));
  runPython(GENERATE, [dir, marker()]);
});
afterAll(() => cleanup());

const read = (name: string): Uint8Array => new Uint8Array(fs.readFileSync(path.join(dir, name)));
const bytes = (text: string): Uint8Array => Uint8Array.from(text, (c) => c.charCodeAt(0));

describe('restricted pickle reader: plain data', () => {
  for (const protocol of [0, 1, 2, 3, 4, 5]) {
    it(`reads protocol ${protocol} containers, numbers, strings and bytes`, () => {
      const v = unpickle(read(`plain_p${protocol}.pkl`)) as Map<string, unknown>;
      expect(v).toBeInstanceOf(Map);
      expect(v.get('a')).toBe(1);
      expect(v.get('neg')).toBe(-5);
      expect(v.get('i32')).toBe(2 ** 31);
      expect(v.get('big')).toBe(2n ** 70n);
      expect(v.get('negbig')).toBe(-(2 ** 40));
      expect(v.get('f')).toBe(1.5);
      expect(v.get('s')).toBe('héllo ☃');
      expect(Array.from(v.get('b') as Uint8Array)).toEqual([0, 1, 255]);
      expect(v.get('n')).toBeNull();
      expect(v.get('t')).toBe(true);
      expect(v.get('fl')).toBe(false);
      expect(v.get('l')).toEqual([1, 2, [3]]);
      expect(v.get('tup')).toEqual([1, 'x']);
      expect([...(v.get('od') as Map<string, number>)]).toEqual([
        ['k', 1],
        ['j', 2],
      ]);
      expect([...(v.get('set') as Set<number>)]).toEqual([7]);
      expect([...(v.get('fs') as Set<number>)]).toEqual([3]);
      expect(((v.get('nested') as Map<string, unknown>).get('deep') as Map<string, number>[])[0]!.get('x')).toBe(0.25);
    });
  }
});

describe('restricted pickle reader: refuses anything but state-dict contents, without effect', () => {
  for (const [name, global] of [
    ['system', /"(posix|os|nt)\.system"/],
    ['eval', /"builtins\.eval"|"__builtin__\.eval"/],
    ['exec', /"builtins\.exec"|"__builtin__\.exec"/],
    ['popen', /"(subprocess|commands)\.Popen"/], // protocol < 3 writes Python 2 module names
    ['getattr', /"(builtins|__builtin__)\.getattr"/],
  ] as const) {
    for (const protocol of [0, 2, 4]) {
      it(`refuses ${name} (protocol ${protocol}) naming the global`, () => {
        let error: unknown;
        try {
          unpickle(read(`evil_${name}_p${protocol}.pkl`));
        } catch (err) {
          error = err;
        }
        expect(error).toBeInstanceOf(UnsafePickleError);
        expect((error as Error).message).toMatch(global);
        expect((error as Error).message).toMatch(/nothing from the file was executed/);
        expect(fs.existsSync(marker())).toBe(false);
      });
    }
  }

  it('refuses hand-built byte strings: GLOBAL, STACK_GLOBAL, INST, OBJ and allowed modules with other names', () => {
    const cases: [string, RegExp][] = [
      ["cos\nsystem\n(S'touch x'\ntR.", /"os\.system"/],
      ['\x80\x02cbuiltins\neval\nq\x00X\x03\x00\x00\x001+1q\x01\x85q\x02Rq\x03.', /"builtins\.eval"/],
      ['\x80\x04\x95\x1a\x00\x00\x00\x00\x00\x00\x00\x8c\x05posix\x94\x8c\x06system\x94\x93\x94\x8c\x04true\x94\x85\x94R\x94.', /"posix\.system"/],
      ["(S'ls'\nios\nsystem\n.", /"os\.system"/],
      ["(cos\nsystem\nS'ls'\no.", /"os\.system"/],
      ['\x80\x02ctorch._utils\n_rebuild_from_type_v2\n)R.', /"torch\._utils\._rebuild_from_type_v2"/],
      ['\x80\x02ccollections\ndefaultdict\n)R.', /"collections\.defaultdict"/],
      ['\x80\x02ctorch\nload\n)R.', /"torch\.load"/],
      ['\x80\x02c__builtin__\n__import__\n)R.', /"__builtin__\.__import__"/],
    ];
    for (const [pickle, global] of cases) {
      expect(() => unpickle(bytes(pickle)), JSON.stringify(pickle)).toThrow(global);
      expect(() => unpickle(bytes(pickle))).toThrow(UnsafePickleError);
    }
  });

  it('refuses calling a value that is not an allowed callable, extension codes and text persistent ids', () => {
    // REDUCE on a string, EXT1, PERSID, truncated data, STOP with leftovers
    for (const bad of ["S'x'\n)R.", '\x80\x02\x82\x01.', 'P1\n.', '\x80\x02X\xff\x00\x00\x00ab', '\x80\x02K\x01K\x02.']) {
      expect(() => unpickle(bytes(bad)), JSON.stringify(bad)).toThrow(PickleFormatError);
    }
  });

  it('refuses a torch.save zip whose pickle carries an os.system payload next to a valid state dict', async () => {
    await expect(openTorchCheckpoint(path.join(dir, 'evil_system.pth'))).rejects.toThrow(UnsafePickleError);
    await expect(openWeightsFile(path.join(dir, 'evil_system.pth'))).rejects.toThrow(/"(posix|os|nt)\.system"/);
    expect(fs.existsSync(marker())).toBe(false);
  });

  it('refuses torch.save of a custom class and of a whole nn.Module (state dicts only)', async () => {
    await expect(openTorchCheckpoint(path.join(dir, 'evil_class.pth'))).rejects.toThrow(/"__main__\.Net"/);
    await expect(openTorchCheckpoint(path.join(dir, 'whole_module.pth'))).rejects.toThrow(/"torch\.nn\.modules\.linear\.Linear"/);
  });

  it('explains the legacy (pre-1.6) torch.save format instead of reading it', async () => {
    await expect(openTorchCheckpoint(path.join(dir, 'legacy.pth'))).rejects.toThrow(TorchCheckpointError);
    await expect(openTorchCheckpoint(path.join(dir, 'legacy.pth'))).rejects.toThrow(/legacy \(pre-1\.6\) torch\.save format/);
  });
});

describe('torch.save zip checkpoints', () => {
  it('reads views (offsets, strides), every dtype, parameters and empty tensors with the values PyTorch has', async () => {
    const expected = JSON.parse(fs.readFileSync(path.join(dir, 'views.json'), 'utf8')) as Record<string, { shape: number[]; values: number[] }>;
    const ckpt = await openTorchCheckpoint(path.join(dir, 'views.pth'));
    try {
      const root = ckpt.root as Map<string, TensorRef>;
      expect([...root.keys()]).toEqual(Object.keys(expected));
      // Views share one storage with base, at an offset and with strides.
      expect(root.get('slice')!.storage).toBe(root.get('base')!.storage);
      expect(root.get('t')!.stride).toEqual([1, 6]);
      for (const [name, want] of Object.entries(expected)) {
        const ref = root.get(name)!;
        expect(ref, name).toBeInstanceOf(TensorRef);
        expect(ref.shape, name).toEqual(want.shape);
        const got = await ckpt.readTensor(ref);
        expect(Array.from(got), name).toEqual(want.values.map((x) => Math.fround(x)));
      }
      expect(root.get('param')!.storage.dtype).toBe('F32');
    } finally {
      ckpt.close();
    }
  });

  it('reads a training checkpoint (optimizer state, scaler, epoch, argparse args) and finds the model state dict', async () => {
    const ckpt = await openTorchCheckpoint(path.join(dir, 'training_ckpt.pth'));
    const root = ckpt.root as Map<string, unknown>;
    expect(root.get('epoch')).toBe(3);
    expect(root.get('args')).toBeInstanceOf(NamespaceObject);
    expect((root.get('args') as NamespaceObject).attributes.get('mask_ratio')).toBe(0.75);
    const opt = root.get('optimizer') as Map<string, unknown>;
    expect(((opt.get('param_groups') as Map<string, unknown>[])[0]!).get('betas')).toEqual([0.9, 0.95]);
    ckpt.close();

    const file = await openWeightsFile(path.join(dir, 'training_ckpt.pth'));
    const reference = await openWeightsFile(path.join(dir, 'training_ckpt_ref.pth'));
    try {
      expect(file.wrapperKey).toBe('model');
      expect(file.otherKeys).toEqual(['optimizer', 'epoch', 'scaler', 'args']);
      expect([...file.tensors.keys()]).toEqual(['0.weight', '0.bias', '1.weight', '1.bias']);
      for (const [name, t] of file.tensors) expect(Array.from(await t.read()), name).toEqual(Array.from(await reference.tensors.get(name)!.read()));
    } finally {
      file.close();
      reference.close();
    }
  });
});
