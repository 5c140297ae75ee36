/**
 * Starting weights for a run (`--init`): a registered model (mdl_…), another run's latest checkpoint
 * (run_…) or a .safetensors file with PyTorch names. Names are matched as they are (a leading `encoder.`,
 * SimMIM's prefix, is dropped); the head of the recipe keeps its fresh initialisation when the source has none.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Database } from 'better-sqlite3';
import { getModel } from '../../weights/model-registry';
import { openSafetensors } from '../../weights/safetensors';
import { latestCheckpoint } from '../train/checkpoint';
import { RUN_ID_RE, RunStore } from '../runs/run-store';

export class InitError extends Error {
  constructor(
    readonly code: 'NOT_FOUND' | 'BAD_INPUT',
    message: string,
  ) {
    super(message);
    this.name = 'InitError';
  }
}

export interface InitSource {
  kind: 'model' | 'run' | 'file';
  label: string;
  /** Absolute path of the safetensors file. */
  file: string;
}

export function locateInit(db: Database, dataDir: string, init: string): InitSource {
  if (/^mdl_[0-9a-z]{6,40}$/.test(init)) {
    const model = getModel(db, init);
    if (!model) throw new InitError('NOT_FOUND', `no model ${init}`);
    return { kind: 'model', label: `model ${init} (${model.name})`, file: path.resolve(dataDir, model.file) };
  }
  if (RUN_ID_RE.test(init)) {
    const run = new RunStore(db).get(init);
    if (!run) throw new InitError('NOT_FOUND', `no run ${init}`);
    const latest = latestCheckpoint(path.join(dataDir, run.dir), { weightsOnly: true });
    if (!latest) throw new InitError('NOT_FOUND', `run ${init} has no checkpoint yet`);
    return { kind: 'run', label: `run ${init} at step ${latest.entry.step}`, file: path.join(dataDir, run.dir, latest.entry.model) };
  }
  const file = path.resolve(init);
  if (!fs.existsSync(file)) throw new InitError('NOT_FOUND', `no file ${path.basename(file)}`);
  if (!file.endsWith('.safetensors')) throw new InitError('BAD_INPUT', 'initial weights must be a .safetensors file (import PyTorch checkpoints with `usfm weights import` first)');
  return { kind: 'file', label: `file ${path.basename(file)}`, file };
}

/** Layout and width of the encoder stored in a safetensors file (from its header only). */
export function inspectInit(file: string): { layout: 'timm' | 'beit' | null; embedDim: number | null } {
  const reader = openSafetensors(file);
  try {
    const names = [...reader.entries.keys()].map((n) => n.replace(/^encoder\./, ''));
    const layout = names.some((n) => n.includes('relative_position_bias_table') || n.endsWith('attn.q_bias')) ? 'beit' : names.includes('pos_embed') ? 'timm' : null;
    const proj = reader.entries.get('patch_embed.proj.weight') ?? reader.entries.get('encoder.patch_embed.proj.weight');
    return { layout, embedDim: proj ? proj.shape[0]! : null };
  } finally {
    reader.close();
  }
}

