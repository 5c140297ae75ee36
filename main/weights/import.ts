/**
 * Import a checkpoint into the model registry: read it (safetensors or torch.save zip, restricted
 * unpickling), bring it to the workbench layout (./layouts), and store it in the project's own
 * safetensors format under `<dataDir>/models/<id>/`.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Database } from 'better-sqlite3';
import { normaliseWeights, type ImportReport, type LayoutChoice, type NormalisedWeights } from './layouts';
import { saveModel, type ModelRecord } from './model-registry';
import { openWeightsFile } from './weights-file';
import { readExportManifest } from './dataset-export';

export interface ImportOptions {
  file: string;
  name: string;
  layout?: LayoutChoice;
  imgSize?: number;
  numHeads?: number;
  keepDecoder?: boolean;
  /** manifest.json of a `usfm dataset export`: the dataset the weights were trained on elsewhere. */
  datasetManifest?: string;
  onProgress?: (phase: 'reading' | 'writing', done: number, total: number) => void;
  checkStop?: () => void;
}

export interface ImportResult {
  model: ModelRecord;
  report: ImportReport;
}

async function sha256File(file: string): Promise<string> {
  const hash = crypto.createHash('sha256');
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 4 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Read and convert a weights file without storing it (what `import` stores, and the report). */
export async function readWeightsForImport(options: Omit<ImportOptions, 'name'>): Promise<NormalisedWeights> {
  const file = await openWeightsFile(options.file);
  try {
    return await normaliseWeights(file, {
      layout: options.layout,
      imgSize: options.imgSize,
      numHeads: options.numHeads,
      keepDecoder: options.keepDecoder,
      onTensor: (done, total) => options.onProgress?.('reading', done, total),
      checkStop: options.checkStop,
    });
  } finally {
    file.close();
  }
}

export async function importWeights(db: Database, dataDir: string, options: ImportOptions): Promise<ImportResult> {
  const trainedOn = options.datasetManifest ? readExportManifest(options.datasetManifest) : null;
  const weights = await readWeightsForImport(options);
  options.checkStop?.();
  options.onProgress?.('writing', 0, 1);
  const stat = fs.statSync(options.file);
  const provenance = {
    importedFrom: path.basename(options.file),
    sha256: await sha256File(options.file),
    bytes: stat.size,
    format: weights.report.format,
    sourceLayout: weights.report.sourceLayout,
    wrapperKey: weights.report.wrapperKey,
    prefix: weights.report.prefix,
    converted: weights.report.converted,
    dropped: weights.report.dropped,
    unexpected: weights.report.unexpected,
    missing: weights.report.missing,
  };
  const own = weights.report.sourceLayout === 'project' ? weights.metadata : {};
  const model = saveModel(db, dataDir, {
    name: options.name,
    source: 'imported',
    task: own.task,
    config: weights.config,
    tensors: weights.tensors,
    metadata: {
      recipe: own.recipe ?? (weights.report.sourceLayout === 'mae' && weights.config.decoder ? 'mae' : undefined),
      datasetManifestHash: trainedOn?.pretrainManifestHash ?? own.dataset_manifest_hash,
      dataset: trainedOn ? { ...trainedOn.dataset, exportManifestHash: trainedOn.manifestHash } : undefined,
      metrics: own.metrics ? parseJson(own.metrics) : undefined,
      provenance,
    },
  });
  options.onProgress?.('writing', 1, 1);
  return { model, report: weights.report };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
