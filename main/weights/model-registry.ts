/**
 * The model registry: every set of weights the app knows (imported, pretrained here, fine-tuned here), one
 * row in the catalog's `models` table and one folder `<dataDir>/models/<id>/` holding `model.safetensors`
 * (PyTorch names, the configuration and provenance in its metadata) and `config.json`.
 *
 * Training code registers what it produced with `saveModel` (writes the files and the row) or, when it
 * wrote `modelFile(dataDir, id)` itself, with `registerModel`.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Database } from 'better-sqlite3';
import { writeFileAtomic } from '../util/atomic-write';
import { float32Tensor, openSafetensors, toFloat32, writeSafetensors, type NamedTensor } from './safetensors';
import { parseModelConfig, type ModelConfig } from './model-config';
import type { StateDict } from './state-dict';

export type ModelSource = 'imported' | 'pretrained' | 'finetuned';
export type ModelTask = 'backbone' | 'pretrain' | 'segmentation' | 'classification' | (string & {});

export interface ModelRecord {
  id: string;
  name: string;
  source: ModelSource;
  layout: 'timm' | 'beit';
  task: ModelTask;
  config: ModelConfig;
  /** The safetensors file, relative to the data directory (`models/<id>/model.safetensors`). */
  file: string;
  runId: string | null;
  /** Recipe, dataset manifest hash, metrics, provenance (import report, source file name...). */
  metadata: Record<string, unknown>;
  createdAt: string;
}

export const MODEL_ID_PATTERN = /^mdl_[0-9a-z]{6,40}$/;
export const MODELS_DIR = 'models';
export const MODEL_FILE = 'model.safetensors';
export const CONFIG_FILE = 'config.json';
/** Marks a safetensors file written by this app; its value is the format version. */
export const FORMAT_KEY = 'usfm_workbench';
export const FORMAT_VERSION = '1';

export function newModelId(): string {
  return `mdl_${Date.now().toString(36)}${crypto.randomBytes(5).toString('hex')}`;
}

export function modelDir(dataDir: string, id: string): string {
  if (!MODEL_ID_PATTERN.test(id)) throw new Error(`not a model id: ${id}`);
  return path.join(dataDir, MODELS_DIR, id);
}

/** Where `saveModel` puts (and `registerModel` expects) a model's weights. */
export function modelFile(dataDir: string, id: string): string {
  return path.join(modelDir(dataDir, id), MODEL_FILE);
}

interface ModelRow {
  id: string;
  name: string;
  source: ModelSource;
  layout: 'timm' | 'beit';
  task: string;
  config: string;
  file: string;
  run_id: string | null;
  metadata: string | null;
  created_at: string;
}

function toRecord(row: ModelRow): ModelRecord {
  return {
    id: row.id,
    name: row.name,
    source: row.source,
    layout: row.layout,
    task: row.task,
    config: JSON.parse(row.config) as ModelConfig,
    file: row.file,
    runId: row.run_id,
    metadata: row.metadata ? (JSON.parse(row.metadata) as Record<string, unknown>) : {},
    createdAt: row.created_at,
  };
}

/** The string metadata stored in (and exported with) the safetensors file: all values are strings. */
export function safetensorsMetadata(record: Omit<ModelRecord, 'file'>): Record<string, string> {
  const m = record.metadata;
  const str = (v: unknown): string | undefined => (v === undefined || v === null ? undefined : typeof v === 'string' ? v : JSON.stringify(v));
  const entries: [string, string | undefined][] = [
    ['format', 'pt'], // what Hugging Face's loaders expect of PyTorch safetensors
    [FORMAT_KEY, FORMAT_VERSION],
    ['model_id', record.id],
    ['name', record.name],
    ['source', record.source],
    ['layout', record.layout],
    ['task', record.task],
    ['config', JSON.stringify(record.config)],
    ['recipe', str(m.recipe)],
    ['dataset_manifest_hash', str(m.datasetManifestHash)],
    ['metrics', str(m.metrics)],
    ['run_id', record.runId ?? undefined],
    ['created_at', record.createdAt],
    ['provenance', str(m.provenance)],
  ];
  return Object.fromEntries(entries.filter((e): e is [string, string] => e[1] !== undefined));
}

export interface SaveModelInput {
  /** Default: a new id. */
  id?: string;
  name: string;
  source: ModelSource;
  task?: ModelTask;
  config: ModelConfig;
  /** Tensors with PyTorch names, in the order they should be listed (the file itself is sorted by name). */
  tensors: StateDict;
  runId?: string | null;
  metadata?: Record<string, unknown>;
}

function insertRow(db: Database, record: ModelRecord): void {
  db.prepare(
    `INSERT INTO models (id, name, source, layout, task, config, file, run_id, metadata, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(
    record.id,
    record.name,
    record.source,
    record.layout,
    record.task,
    JSON.stringify(record.config),
    record.file,
    record.runId,
    JSON.stringify(record.metadata),
    record.createdAt,
  );
}

/** Write `models/<id>/model.safetensors` + `config.json` and add the catalog row. */
export function saveModel(db: Database, dataDir: string, input: SaveModelInput): ModelRecord {
  const config = parseModelConfig(input.config);
  const id = input.id ?? newModelId();
  const record: ModelRecord = {
    id,
    name: input.name,
    source: input.source,
    layout: config.vit.layout,
    task: input.task ?? (config.decoder ? 'pretrain' : 'backbone'),
    config,
    file: path.posix.join(MODELS_DIR, id, MODEL_FILE),
    runId: input.runId ?? null,
    metadata: input.metadata ?? {},
    createdAt: new Date().toISOString(),
  };
  const tensors = new Map<string, NamedTensor>();
  for (const [name, t] of input.tensors) tensors.set(name, float32Tensor(t.shape, t.data));
  const dir = modelDir(dataDir, id);
  if (fs.existsSync(path.join(dir, MODEL_FILE))) throw new Error(`model ${id} already has weights`);
  try {
    writeSafetensors(path.join(dir, MODEL_FILE), tensors, safetensorsMetadata(record));
    writeFileAtomic(path.join(dir, CONFIG_FILE), `${JSON.stringify({ id, name: record.name, layout: record.layout, task: record.task, ...config }, null, 2)}\n`);
    insertRow(db, record);
  } catch (err) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return record;
}

export interface RegisterModelInput extends Omit<SaveModelInput, 'tensors' | 'id'> {
  id: string;
}

/** Add the catalog row for weights already written at `modelFile(dataDir, id)` (its header is checked). */
export function registerModel(db: Database, dataDir: string, input: RegisterModelInput): ModelRecord {
  const config = parseModelConfig(input.config);
  const file = modelFile(dataDir, input.id);
  if (!fs.existsSync(file)) throw new Error(`no weights file for model ${input.id}`);
  openSafetensors(file).close(); // a readable header, or this throws
  const record: ModelRecord = {
    id: input.id,
    name: input.name,
    source: input.source,
    layout: config.vit.layout,
    task: input.task ?? (config.decoder ? 'pretrain' : 'backbone'),
    config,
    file: path.posix.join(MODELS_DIR, input.id, MODEL_FILE),
    runId: input.runId ?? null,
    metadata: input.metadata ?? {},
    createdAt: new Date().toISOString(),
  };
  if (!fs.existsSync(path.join(modelDir(dataDir, input.id), CONFIG_FILE))) {
    writeFileAtomic(path.join(modelDir(dataDir, input.id), CONFIG_FILE), `${JSON.stringify({ id: record.id, name: record.name, layout: record.layout, task: record.task, ...config }, null, 2)}\n`);
  }
  insertRow(db, record);
  return record;
}

export function listModels(db: Database, filter: { source?: ModelSource; task?: string; limit?: number } = {}): ModelRecord[] {
  const where: string[] = [];
  const args: unknown[] = [];
  if (filter.source) {
    where.push('source = ?');
    args.push(filter.source);
  }
  if (filter.task) {
    where.push('task = ?');
    args.push(filter.task);
  }
  const sql = `SELECT * FROM models ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC, rowid DESC LIMIT ?`;
  return (db.prepare(sql).all(...args, filter.limit ?? 500) as ModelRow[]).map(toRecord);
}

export function getModel(db: Database, id: string): ModelRecord | null {
  const row = db.prepare(`SELECT * FROM models WHERE id = ?`).get(id) as ModelRow | undefined;
  return row ? toRecord(row) : null;
}

/** Remove the row and the model's folder. False when there was no such model. */
export function deleteModel(db: Database, dataDir: string, id: string): boolean {
  const record = getModel(db, id);
  if (!record) return false;
  db.prepare(`DELETE FROM models WHERE id = ?`).run(id);
  fs.rmSync(modelDir(dataDir, id), { recursive: true, force: true });
  return true;
}

/** The absolute path of a model's weights; refuses a recorded path that leaves the data directory. */
export function resolveModelFile(dataDir: string, record: Pick<ModelRecord, 'file'>): string {
  const root = path.resolve(dataDir);
  const file = path.resolve(root, record.file);
  if (!file.startsWith(root + path.sep)) throw new Error('the model file lies outside the data directory');
  return file;
}

/** A registered model's weights as a state dict (for `loadStateDict` of main/ml/vit), plus its file metadata. */
export function readModelStateDict(dataDir: string, record: Pick<ModelRecord, 'file'>): { tensors: StateDict; metadata: Record<string, string> } {
  const reader = openSafetensors(resolveModelFile(dataDir, record));
  try {
    const tensors: StateDict = new Map();
    for (const [name, e] of reader.entries) tensors.set(name, { shape: e.shape, data: toFloat32(reader.read(name)) });
    return { tensors, metadata: reader.metadata };
  } finally {
    reader.close();
  }
}
