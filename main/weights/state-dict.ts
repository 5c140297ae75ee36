/** A PyTorch-style state dict held in memory: parameter name -> float32 values in row-major order. */
export interface StateTensor {
  shape: number[];
  data: Float32Array;
}

export type StateDict = Map<string, StateTensor>;

export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function shapeText(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** Keys sorted the way Python sorts strings (code points), for stable listings. */
export function sortedKeys(keys: Iterable<string>): string[] {
  return [...keys].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
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
