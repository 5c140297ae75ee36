/**
 * Export a registered model as a safetensors file with PyTorch names and string metadata (recipe,
 * configuration, dataset manifest hash, metrics), loadable by `safetensors.torch.load_file` and timm.
 */
import path from 'node:path';
import type { Database } from 'better-sqlite3';
import { writeFileAtomic } from '../util/atomic-write';
import { encodeSafetensors, readSafetensors, type NamedTensor } from './safetensors';
import { expectedTensors } from './model-config';
import { gridSize } from '../ml/vit/config';
import { relativePositionIndex } from '../ml/vit/pos-embed';
import { getModel, resolveModelFile, safetensorsMetadata, type ModelRecord } from './model-registry';

export interface ExportOptions {
  /** Only the encoder (no MAE decoder, no mask token): what timm's VisionTransformer / Beit load with strict=True. */
  backboneOnly?: boolean;
}

export interface ExportResult {
  model: ModelRecord;
  tensors: number;
  bytes: number;
  metadata: Record<string, string>;
}

export class ExportError extends Error {
  constructor(
    readonly code: 'NOT_FOUND' | 'BAD_INPUT',
    message: string,
  ) {
    super(message);
    this.name = 'ExportError';
  }
}

interface RunRow {
  recipe: string | null;
  manifest_hash: string | null;
  metrics: string | null;
  dataset_id: string | null;
}

/** Model metadata completed from its training run (recipe, manifest hash, final metrics) where it lacks them. */
function withRunMetadata(db: Database, model: ModelRecord): ModelRecord {
  if (!model.runId) return model;
  const run = db.prepare(`SELECT recipe, manifest_hash, metrics, dataset_id FROM runs WHERE id = ?`).get(model.runId) as RunRow | undefined;
  if (!run) return model;
  const m = { ...model.metadata };
  m.recipe ??= run.recipe ?? undefined;
  m.datasetManifestHash ??= run.manifest_hash ?? undefined;
  if (m.metrics === undefined && run.metrics) m.metrics = JSON.parse(run.metrics) as unknown;
  return { ...model, metadata: m };
}

/** BEiT's relative_position_index for a g x g grid as PyTorch stores it (int64). */
function relativePositionIndexTensor(grid: number): NamedTensor {
  const index = relativePositionIndex(grid);
  const n = grid * grid + 1;
  return { dtype: 'I64', shape: [n, n], bytes: new Uint8Array(BigInt64Array.from(index, (v) => BigInt(v)).buffer) };
}

export function exportModel(db: Database, dataDir: string, id: string, outFile: string, options: ExportOptions = {}): ExportResult {
  const found = getModel(db, id);
  if (!found) throw new ExportError('NOT_FOUND', `no model ${id}`);
  if (path.extname(outFile).toLowerCase() !== '.safetensors') throw new ExportError('BAD_INPUT', 'the export file name must end in .safetensors');
  const model = withRunMetadata(db, found);
  const stored = readSafetensors(resolveModelFile(dataDir, model));
  let tensors: Map<string, NamedTensor> = new Map(stored.tensors);
  let config = model.config;
  if (options.backboneOnly) {
    // Pretraining-only parts (MAE decoder, mask token) left out: a plain ViT loads the rest strictly.
    config = { ...model.config, decoder: undefined, vit: { ...model.config.vit, maskToken: false } };
    const backbone = expectedTensors(config);
    tensors = new Map([...stored.tensors].filter(([name]) => backbone.has(name)));
  }
  if (config.vit.layout === 'beit') {
    // BEiT, USFM and timm's Beit keep relative_position_index as a persistent buffer: a strict load needs it.
    const index = relativePositionIndexTensor(gridSize(config.vit));
    if (config.relPosBias === 'per-block') for (let i = 0; i < config.vit.depth; i++) tensors.set(`blocks.${i}.attn.relative_position_index`, index);
    else tensors.set('rel_pos_bias.relative_position_index', index);
  }
  const metadata = { ...safetensorsMetadata({ ...model, config }), exported_at: new Date().toISOString(), ...(options.backboneOnly ? { backbone_only: 'true' } : {}) };
  const chunks = encodeSafetensors(tensors, metadata);
  writeFileAtomic(outFile, chunks);
  return { model, tensors: tensors.size, bytes: chunks.reduce((n, c) => n + c.byteLength, 0), metadata };
}
