/** Loads a run's starting weights (see init-weights.ts for where they come from) into the model. */
import type { Database } from 'better-sqlite3';
import { getModel, readModelStateDict } from '../../weights/model-registry';
import { loadStateDict, type StateDict } from '../vit';
import { loadCheckpoint } from '../train/checkpoint';
import { InitError, locateInit, type InitSource } from './init-weights';
import type { PretrainModel } from './model';

function readStateDict(db: Database, dataDir: string, source: InitSource, init: string): StateDict {
  if (source.kind === 'model') return readModelStateDict(dataDir, getModel(db, init)!).tensors;
  const loaded = loadCheckpoint(source.file);
  const out: StateDict = new Map();
  for (const [name, t] of loaded.model) out.set(name, { shape: t.shape, data: t.values });
  return out;
}

/** Assigns the matching tensors; returns what was loaded and what kept its initialisation. */
export function applyInit(model: PretrainModel, db: Database, dataDir: string, init: string): { label: string; loaded: number; missing: string[]; unexpected: string[] } {
  const source = locateInit(db, dataDir, init);
  const raw = readStateDict(db, dataDir, source, init);
  const state: StateDict = new Map();
  for (const [name, t] of raw) state.set(name.replace(/^encoder\./, ''), t);
  // MAE's fixed tables are recomputed for this image size; a source of another size must not overwrite them.
  for (const fixed of ['pos_embed', 'decoder_pos_embed']) {
    const v = model.params.get(fixed);
    if (v && !v.trainable) state.delete(fixed);
  }
  const report = loadStateDict(model, state, { strict: false });
  const loaded = [...state.keys()].filter((k) => model.params.has(k)).length;
  if (loaded === 0) throw new InitError('BAD_INPUT', `${source.label} has no tensor this model uses (different naming?)`);
  return { label: source.label, loaded, missing: report.missing, unexpected: report.unexpected };
}
