/**
 * A restricted reader for Python pickles (protocols 0-5) that never executes anything from the file.
 *
 * Python's pickle is a small stack machine whose GLOBAL/REDUCE/BUILD opcodes import and call arbitrary
 * Python callables. This reader interprets the data opcodes itself and models only the handful of
 * callables a PyTorch state dict needs (ordered dicts, tensor rebuild functions, storage types,
 * parameters, plain containers); any other global (os.system, builtins.eval, a custom class...) stops
 * the read with an `UnsafePickleError` before anything else happens. Nothing is ever "called": the
 * allowed globals are stand-ins written in TypeScript that build plain JS values.
 */

export class UnsafePickleError extends Error {
  constructor(readonly global: string) {
    super(
      `refusing to read this file: its pickle asks for "${global}", which a weights file never needs ` +
        '(only state dicts of tensors, ordered dicts, numbers and plain containers are accepted; nothing from the file was executed)',
    );
    this.name = 'UnsafePickleError';
  }
}

export class PickleFormatError extends Error {
  constructor(problem: string) {
    super(`not a readable pickle: ${problem}`);
    this.name = 'PickleFormatError';
  }
}

/** The element types of PyTorch's legacy typed storages, named as safetensors names them. */
export type TorchDtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

export const STORAGE_DTYPES: Readonly<Record<string, TorchDtype>> = {
  DoubleStorage: 'F64',
  FloatStorage: 'F32',
  HalfStorage: 'F16',
  BFloat16Storage: 'BF16',
  LongStorage: 'I64',
  IntStorage: 'I32',
  ShortStorage: 'I16',
  CharStorage: 'I8',
  ByteStorage: 'U8',
  BoolStorage: 'BOOL',
};

/** A storage type global (`torch.FloatStorage`); appears inside persistent ids. */
export class StorageType {
  constructor(
    readonly name: string,
    readonly dtype: TorchDtype,
  ) {}
}

/** A tensor described by the pickle: its data lives in the archive entry `data/<key>`. */
export interface StorageRef {
  key: string;
  dtype: TorchDtype;
  location: string;
  /** Number of elements in the whole storage. */
  numel: number;
}

export class TensorRef {
  constructor(
    readonly storage: StorageRef,
    /** In elements. */
    readonly offset: number,
    readonly shape: number[],
    readonly stride: number[],
    readonly requiresGrad: boolean,
  ) {}
}

/** An `argparse.Namespace` (MAE/BEiT training checkpoints store their command line in one): plain data. */
export class NamespaceObject {
  readonly attributes = new Map<string, unknown>();
}

/** Python tuples become frozen arrays, lists plain arrays, dicts and ordered dicts `Map`s, sets `Set`s. */
export type PyValue = unknown;

type Callable = (args: unknown[]) => unknown;

interface AllowedGlobal {
  /** What REDUCE / NEWOBJ does with it. */
  call?: Callable;
  /** The value itself (storage types are used as values, not called). */
  value?: unknown;
}

function tupleArgs(args: unknown, what: string): unknown[] {
  if (!Array.isArray(args)) throw new PickleFormatError(`${what} expects a tuple of arguments`);
  return args;
}

function intArg(v: unknown, what: string): number {
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'bigint' && v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= 0n) return Number(v);
  throw new PickleFormatError(`${what} is not an integer`);
}

function intList(v: unknown, what: string): number[] {
  if (!Array.isArray(v)) throw new PickleFormatError(`${what} is not a tuple`);
  return v.map((x, i) => intArg(x, `${what}[${i}]`));
}

function rebuildTensor(args: unknown[]): TensorRef {
  const [storage, offset, size, stride, requiresGrad] = args;
  if (!isStorageRef(storage)) throw new PickleFormatError('a tensor refers to something that is not a storage');
  return new TensorRef(storage, intArg(offset, 'storage offset'), intList(size, 'tensor size'), intList(stride, 'tensor stride'), requiresGrad === true);
}

function isStorageRef(v: unknown): v is StorageRef {
  return typeof v === 'object' && v !== null && typeof (v as StorageRef).key === 'string' && typeof (v as StorageRef).dtype === 'string';
}

function parameter(args: unknown[]): TensorRef {
  if (!(args[0] instanceof TensorRef)) throw new PickleFormatError('a parameter wraps something that is not a tensor');
  return args[0];
}

/** The only globals a state dict needs, keyed "module.name" (Python 2 module names included). */
const ALLOWED: ReadonlyMap<string, AllowedGlobal> = new Map<string, AllowedGlobal>([
  ['collections.OrderedDict', { call: (args) => new Map(pairsOf(args[0])) }],
  ['torch._utils._rebuild_tensor', { call: rebuildTensor }],
  ['torch._utils._rebuild_tensor_v2', { call: rebuildTensor }],
  ['torch._utils._rebuild_parameter', { call: parameter }],
  ['torch._utils._rebuild_parameter_with_state', { call: parameter }],
  ['torch.Size', { call: (args) => Object.freeze(intList(args[0] ?? [], 'torch.Size')) }],
  ['builtins.set', { call: (args) => new Set(iterableOf(args[0])) }],
  ['builtins.frozenset', { call: (args) => new Set(iterableOf(args[0])) }],
  ['__builtin__.set', { call: (args) => new Set(iterableOf(args[0])) }],
  ['__builtin__.frozenset', { call: (args) => new Set(iterableOf(args[0])) }],
  // Protocol 2 writes a bytes object as _codecs.encode(text, 'latin1'): a pure data conversion.
  ['_codecs.encode', { call: latin1Bytes }],
  ['argparse.Namespace', { call: () => new NamespaceObject() }],
  ...Object.entries(STORAGE_DTYPES).map(([name, dtype]): [string, AllowedGlobal] => [`torch.${name}`, { value: new StorageType(name, dtype) }]),
]);

function latin1Bytes(args: unknown[]): Uint8Array {
  const [text, encoding] = args;
  if (typeof text !== 'string' || (encoding !== 'latin1' && encoding !== 'latin-1')) {
    throw new PickleFormatError('_codecs.encode is accepted only for latin-1 byte strings');
  }
  return Uint8Array.from(text, (c) => c.charCodeAt(0) & 0xff);
}

function iterableOf(v: unknown): unknown[] {
  if (v === undefined) return [];
  if (Array.isArray(v)) return v;
  if (v instanceof Set) return [...v];
  throw new PickleFormatError('expected a list');
}

function pairsOf(v: unknown): [unknown, unknown][] {
  if (v === undefined) return [];
  if (v instanceof Map) return [...v.entries()];
  return iterableOf(v).map((pair) => {
    if (!Array.isArray(pair) || pair.length !== 2) throw new PickleFormatError('expected key/value pairs');
    return [pair[0], pair[1]];
  });
}

/** A global that was looked up (GLOBAL / STACK_GLOBAL) and passed the allowlist. */
class GlobalRef {
  constructor(
    readonly name: string,
    readonly spec: AllowedGlobal,
  ) {}
}

function lookupGlobal(module: string, name: string): GlobalRef {
  const full = `${module}.${name}`;
  const spec = ALLOWED.get(full);
  if (!spec) throw new UnsafePickleError(full);
  return new GlobalRef(full, spec);
}

function resolveGlobalValue(ref: GlobalRef): unknown {
  return 'value' in ref.spec ? ref.spec.value : ref;
}

function callGlobal(callable: unknown, args: unknown[]): unknown {
  if (!(callable instanceof GlobalRef) || !callable.spec.call) {
    throw new PickleFormatError(`asks to call something that is not an accepted callable`);
  }
  return callable.spec.call(args);
}

export interface UnpickleOptions {
  /** Resolves BINPERSID ids (PyTorch's storages). Without it, persistent ids are refused. */
  persistentLoad?: (pid: unknown) => unknown;
  /** Upper bound on memo entries and stack depth, against hostile files. */
  maxObjects?: number;
}


/** Read one pickle from `data`. Throws UnsafePickleError for any global outside the allowlist. */
export function unpickle(data: Uint8Array, options: UnpickleOptions = {}): PyValue {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const maxObjects = options.maxObjects ?? 50_000_000;
  const stack: unknown[] = [];
  const marks: number[] = [];
  const memo = new Map<number, unknown>();
  let pos = 0;

  const need = (n: number): void => {
    if (n < 0 || pos + n > data.byteLength) throw new PickleFormatError('truncated');
  };
  const u8 = (): number => {
    need(1);
    return data[pos++]!;
  };
  const u16 = (): number => {
    need(2);
    const v = view.getUint16(pos, true);
    pos += 2;
    return v;
  };
  const u32 = (): number => {
    need(4);
    const v = view.getUint32(pos, true);
    pos += 4;
    return v;
  };
  const i32 = (): number => {
    need(4);
    const v = view.getInt32(pos, true);
    pos += 4;
    return v;
  };
  const u64 = (): number => {
    need(8);
    const v = view.getBigUint64(pos, true);
    pos += 8;
    if (v > BigInt(data.byteLength)) throw new PickleFormatError('length beyond the end of the data');
    return Number(v);
  };
  const bytes = (n: number): Uint8Array => {
    need(n);
    const out = data.slice(pos, pos + n);
    pos += n;
    return out;
  };
  const utf8 = (n: number): string => new TextDecoder('utf-8', { fatal: false }).decode(bytes(n));
  const line = (): string => {
    const end = data.indexOf(0x0a, pos);
    if (end < 0) throw new PickleFormatError('truncated text line');
    const text = new TextDecoder('latin1').decode(data.subarray(pos, end));
    pos = end + 1;
    return text;
  };
  const push = (v: unknown): void => {
    if (stack.length >= maxObjects) throw new PickleFormatError('too many objects');
    stack.push(v);
  };
  const pop = (): unknown => {
    if (stack.length === 0 || (marks.length && stack.length <= marks.at(-1)!)) throw new PickleFormatError('stack underflow');
    return stack.pop();
  };
  const top = (): unknown => {
    if (stack.length === 0) throw new PickleFormatError('stack underflow');
    return stack[stack.length - 1];
  };
  const popMark = (): unknown[] => {
    const at = marks.pop();
    if (at === undefined) throw new PickleFormatError('no mark on the stack');
    return stack.splice(at);
  };
  const memoGet = (i: number): unknown => {
    if (!memo.has(i)) throw new PickleFormatError(`memo entry ${i} missing`);
    return memo.get(i);
  };
  const memoPut = (i: number, v: unknown): void => {
    if (memo.size >= maxObjects) throw new PickleFormatError('too many objects');
    memo.set(i, v);
  };
  const tuple = (items: unknown[]): readonly unknown[] => Object.freeze(items);
  const setItems = (target: unknown, items: unknown[]): void => {
    if (target instanceof NamespaceObject) {
      for (let i = 0; i < items.length; i += 2) target.attributes.set(String(items[i]), items[i + 1]);
      return;
    }
    if (!(target instanceof Map)) throw new PickleFormatError('SETITEM on something that is not a dict');
    for (let i = 0; i < items.length; i += 2) target.set(items[i], items[i + 1]);
  };
  const appendItems = (target: unknown, items: unknown[]): void => {
    if (Array.isArray(target) && !Object.isFrozen(target)) target.push(...items);
    else if (target instanceof Set) for (const item of items) target.add(item);
    else throw new PickleFormatError('APPEND on something that is not a list');
  };
  const persistent = (pid: unknown): unknown => {
    if (!options.persistentLoad) throw new PickleFormatError('persistent ids are not accepted here');
    return options.persistentLoad(pid);
  };
  const long = (raw: Uint8Array): number | bigint => {
    if (raw.byteLength === 0) return 0;
    let v = 0n;
    for (let i = raw.byteLength - 1; i >= 0; i--) v = (v << 8n) | BigInt(raw[i]!);
    if (raw[raw.byteLength - 1]! & 0x80) v -= 1n << BigInt(raw.byteLength * 8);
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  };
  const build = (target: unknown, state: unknown): void => {
    // OrderedDict state carries `_metadata` (module versions); a Namespace its attributes.
    let dictState = state;
    if (Array.isArray(state) && state.length === 2) dictState = state[0] ?? state[1];
    if (target instanceof NamespaceObject && dictState instanceof Map) {
      for (const [k, v] of dictState) target.attributes.set(String(k), v);
      return;
    }
    if (target instanceof Map && (dictState instanceof Map || dictState === null)) return;
    if (target instanceof TensorRef) return; // tensor subclass state (hooks, names): nothing to apply
    throw new PickleFormatError('BUILD on an object this reader does not model');
  };

  for (;;) {
    const op = u8();
    switch (op) {
      case 0x80: // PROTO
        if (u8() > 5) throw new PickleFormatError('pickle protocol newer than 5');
        break;
      case 0x95: // FRAME
        u64();
        break;
      case 0x2e: // STOP
        if (stack.length !== 1) throw new PickleFormatError('stack not empty at STOP');
        return stack[0];
      case 0x28: // MARK
        marks.push(stack.length);
        break;
      case 0x30: // POP
        if (marks.length && stack.length === marks.at(-1)) marks.pop();
        else pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        push(top());
        break;
      case 0x4e: // NONE
        push(null);
        break;
      case 0x88: // NEWTRUE
        push(true);
        break;
      case 0x89: // NEWFALSE
        push(false);
        break;
      case 0x4a: // BININT
        push(i32());
        break;
      case 0x4b: // BININT1
        push(u8());
        break;
      case 0x4d: // BININT2
        push(u16());
        break;
      case 0x8a: // LONG1
        push(long(bytes(u8())));
        break;
      case 0x8b: // LONG4
        push(long(bytes(i32())));
        break;
      case 0x49: {
        // INT (text): also encodes booleans as 00 / 01
        const text = line().trim();
        if (text === '00') push(false);
        else if (text === '01') push(true);
        else push(parseTextInt(text));
        break;
      }
      case 0x4c: // LONG (text)
        push(parseTextInt(line().trim().replace(/L$/, '')));
        break;
      case 0x46: {
        // FLOAT (text)
        const text = line().trim().toLowerCase();
        push(text === 'inf' ? Infinity : text === '-inf' ? -Infinity : Number(text));
        break;
      }
      case 0x47: // BINFLOAT (big-endian double)
        need(8);
        push(view.getFloat64(pos, false));
        pos += 8;
        break;
      case 0x58: // BINUNICODE
        push(utf8(u32()));
        break;
      case 0x8c: // SHORT_BINUNICODE
        push(utf8(u8()));
        break;
      case 0x8d: // BINUNICODE8
        push(utf8(u64()));
        break;
      case 0x56: // UNICODE (raw-unicode-escape text)
        push(decodeRawUnicodeEscape(line()));
        break;
      case 0x53: // STRING (quoted repr)
        push(decodeQuoted(line()));
        break;
      case 0x54: // BINSTRING
        push(new TextDecoder('latin1').decode(bytes(i32())));
        break;
      case 0x55: // SHORT_BINSTRING
        push(new TextDecoder('latin1').decode(bytes(u8())));
        break;
      case 0x42: // BINBYTES
        push(bytes(u32()));
        break;
      case 0x43: // SHORT_BINBYTES
        push(bytes(u8()));
        break;
      case 0x8e: // BINBYTES8
        push(bytes(u64()));
        break;
      case 0x96: // BYTEARRAY8
        push(bytes(u64()));
        break;
      case 0x29: // EMPTY_TUPLE
        push(tuple([]));
        break;
      case 0x85: // TUPLE1
        push(tuple([pop()]));
        break;
      case 0x86: {
        const b = pop();
        const a = pop();
        push(tuple([a, b]));
        break;
      }
      case 0x87: {
        const c = pop();
        const b = pop();
        const a = pop();
        push(tuple([a, b, c]));
        break;
      }
      case 0x74: // TUPLE
        push(tuple(popMark()));
        break;
      case 0x5d: // EMPTY_LIST
        push([]);
        break;
      case 0x6c: // LIST
        push(popMark());
        break;
      case 0x61: {
        // APPEND
        const item = pop();
        appendItems(top(), [item]);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark();
        appendItems(top(), items);
        break;
      }
      case 0x7d: // EMPTY_DICT
        push(new Map());
        break;
      case 0x64: {
        // DICT
        const items = popMark();
        const map = new Map();
        setItems(map, items);
        push(map);
        break;
      }
      case 0x73: {
        // SETITEM
        const value = pop();
        const key = pop();
        setItems(top(), [key, value]);
        break;
      }
      case 0x75: {
        // SETITEMS
        const items = popMark();
        if (items.length % 2) throw new PickleFormatError('odd number of dict items');
        setItems(top(), items);
        break;
      }
      case 0x8f: // EMPTY_SET
        push(new Set());
        break;
      case 0x90: {
        // ADDITEMS
        const items = popMark();
        appendItems(top(), items);
        break;
      }
      case 0x91: // FROZENSET
        push(new Set(popMark()));
        break;
      case 0x67: // GET
        push(memoGet(parseTextInt(line().trim()) as number));
        break;
      case 0x68: // BINGET
        push(memoGet(u8()));
        break;
      case 0x6a: // LONG_BINGET
        push(memoGet(u32()));
        break;
      case 0x70: // PUT
        memoPut(parseTextInt(line().trim()) as number, top());
        break;
      case 0x71: // BINPUT
        memoPut(u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        memoPut(u32(), top());
        break;
      case 0x94: // MEMOIZE
        memoPut(memo.size, top());
        break;
      case 0x63: {
        // GLOBAL "module\nname\n": checked against the allowlist before anything else
        const module = line();
        const name = line();
        push(resolveGlobalValue(lookupGlobal(module, name)));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') throw new PickleFormatError('STACK_GLOBAL needs two strings');
        push(resolveGlobalValue(lookupGlobal(module, name)));
        break;
      }
      case 0x69: {
        // INST "module\nname\n" with marked arguments (protocol 0)
        const module = line();
        const name = line();
        const ref = lookupGlobal(module, name);
        push(callGlobal(ref, popMark()));
        break;
      }
      case 0x6f: {
        // OBJ: class and arguments after the mark
        const items = popMark();
        push(callGlobal(items[0], items.slice(1)));
        break;
      }
      case 0x52: {
        // REDUCE
        const args = pop();
        const callable = pop();
        push(callGlobal(callable, tupleArgs(args, 'REDUCE')));
        break;
      }
      case 0x81: {
        // NEWOBJ: cls.__new__(cls, *args)
        const args = pop();
        const cls = pop();
        push(callGlobal(cls, tupleArgs(args, 'NEWOBJ')));
        break;
      }
      case 0x92: {
        // NEWOBJ_EX
        pop(); // kwargs
        const args = pop();
        const cls = pop();
        push(callGlobal(cls, tupleArgs(args, 'NEWOBJ_EX')));
        break;
      }
      case 0x62: {
        // BUILD
        const state = pop();
        build(top(), state);
        break;
      }
      case 0x51: // BINPERSID
        push(persistent(pop()));
        break;
      case 0x50: // PERSID (text)
        line();
        throw new PickleFormatError('text persistent ids are not used by PyTorch and are not accepted');
      case 0x82:
      case 0x83:
      case 0x84:
        throw new PickleFormatError('extension-registry opcodes (EXT1/2/4) are not accepted');
      case 0x97:
      case 0x98:
        throw new PickleFormatError('out-of-band buffers are not accepted');
      default:
        throw new PickleFormatError(`unknown opcode 0x${op.toString(16).padStart(2, '0')} at byte ${pos - 1}`);
    }
  }
}

function parseTextInt(text: string): number | bigint {
  if (!/^[+-]?\d+$/.test(text)) throw new PickleFormatError(`bad integer "${text.slice(0, 20)}"`);
  const big = BigInt(text);
  return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
}

function decodeRawUnicodeEscape(text: string): string {
  return text.replace(/\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})/g, (_m, u4: string | undefined, u8: string | undefined) =>
    String.fromCodePoint(parseInt((u4 ?? u8)!, 16)),
  );
}

function decodeQuoted(text: string): string {
  const t = text.trim();
  const q = t[0];
  if ((q !== "'" && q !== '"') || t.at(-1) !== q) throw new PickleFormatError('STRING argument is not quoted');
  return t
    .slice(1, -1)
    .replace(/\\(x[0-9a-fA-F]{2}|[\\'"nrt0])/g, (_m, e: string) =>
      e[0] === 'x' ? String.fromCharCode(parseInt(e.slice(1), 16)) : ({ n: '\n', r: '\r', t: '\t', '0': '\0' } as Record<string, string>)[e] ?? e,
    );
}
