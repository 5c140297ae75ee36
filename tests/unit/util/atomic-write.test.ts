import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeFileAtomic } from '../../../main/util/atomic-write';
import { redactPaths } from '../../../main/api/errors';
import { tempDir } from '../../helpers/temp';

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = tempDir()));
afterEach(() => cleanup());

describe('writeFileAtomic', () => {
  it('replaces the content and leaves no temporary files', () => {
    const file = path.join(dir, 'sub', 'state.json');
    writeFileAtomic(file, '{"a":1}');
    writeFileAtomic(file, [new Uint8Array([123, 34]), Buffer.from('b":2}')]);
    expect(fs.readFileSync(file, 'utf8')).toBe('{"b":2}');
    expect(fs.readdirSync(path.dirname(file))).toEqual(['state.json']);
  });

  it('keeps the old content when the write fails', () => {
    const file = path.join(dir, 'x.txt');
    writeFileAtomic(file, 'old');
    const bad = [Buffer.from('new'), null as unknown as Uint8Array];
    expect(() => writeFileAtomic(file, bad)).toThrow();
    expect(fs.readFileSync(file, 'utf8')).toBe('old');
    expect(fs.readdirSync(dir)).toEqual(['x.txt']);
  });
});

describe('redactPaths', () => {
  it('removes POSIX and Windows absolute paths', () => {
    expect(redactPaths(`open '/home/a/b/c.dcm' failed`)).toBe(`open '<path>' failed`);
    expect(redactPaths('C:\\Users\\x\\scan.dcm is broken')).toBe('<path> is broken');
    expect(redactPaths('ratio 3/4 stays')).toBe('ratio 3/4 stays');
  });
});
