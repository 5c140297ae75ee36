/** State-dict helpers. The types are the ViT module's: PyTorch names, PyTorch shapes, float32 row-major. */
export type { StateDict, StateTensor } from '../ml/vit/state-dict';

export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function shapeText(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** The block index in `blocks.<i>.` / `decoder_blocks.<i>.` names, or null. */
export function blockIndex(name: string, prefix = 'blocks'): number | null {
  const m = new RegExp(`^${prefix}\\.(\\d+)\\.`).exec(name);
  return m ? Number(m[1]) : null;
}

/** Number of `<prefix>.<i>.*` blocks (highest index + 1). */
export function countBlocks(names: Iterable<string>, prefix = 'blocks'): number {
  let depth = 0;
  for (const name of names) {
    const i = blockIndex(name, prefix);
    if (i !== null) depth = Math.max(depth, i + 1);
  }
  return depth;
}

/** "a, b, c (+12 more)" for messages. */
export function listText(names: readonly string[], max = 8): string {
  return names.length <= max ? names.join(', ') : `${names.slice(0, max).join(', ')} (+${names.length - max} more)`;
}
