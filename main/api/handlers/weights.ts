import fs from 'node:fs';
import path from 'node:path';
import type { weightsCalls } from '../contract/weights';
import type { HandlerSet } from './types';
import { ApiError } from '../errors';
import { deleteModel, getModel, listModels, resolveModelFile } from '../../weights/model-registry';
import { exportModel, ExportError } from '../../weights/export';
import { openSafetensors } from '../../weights/safetensors';
import { checkImportFile } from '../../weights/import-job';
import { numel } from '../../weights/state-dict';

export const weightsHandlers: HandlerSet<keyof typeof weightsCalls> = {
  'weights.import'(input, ctx) {
    const file = path.resolve(input.file);
    const problem = checkImportFile(file);
    if (problem) throw new ApiError(problem.code, problem.message);
    const datasetManifest = input.datasetManifest ? path.resolve(input.datasetManifest) : undefined;
    if (datasetManifest && !fs.existsSync(datasetManifest)) throw new ApiError('NOT_FOUND', `no such dataset manifest: ${path.basename(datasetManifest)}`);
    return ctx.jobs.start('weights-import', { ...input, file, datasetManifest }, `Import weights "${input.name}" (${path.basename(file)})`);
  },
  'weights.export'(input, ctx) {
    try {
      const out = path.resolve(input.out);
      const result = exportModel(ctx.catalog.db, ctx.dataDir, input.id, out, { backboneOnly: input.backboneOnly });
      return { id: input.id, fileName: path.basename(out), tensors: result.tensors, bytes: result.bytes, metadata: result.metadata };
    } catch (err) {
      if (err instanceof ExportError) throw new ApiError(err.code, err.message);
      throw err;
    }
  },
  'weights.list'(input, ctx) {
    return listModels(ctx.catalog.db, input);
  },
  'weights.get'(input, ctx) {
    const model = getModel(ctx.catalog.db, input.id);
    if (!model) throw new ApiError('NOT_FOUND', `no model ${input.id}`);
    let sizeBytes = 0;
    let tensorCount = 0;
    let paramCount = 0;
    try {
      const reader = openSafetensors(resolveModelFile(ctx.dataDir, model));
      sizeBytes = reader.size;
      tensorCount = reader.entries.size;
      for (const e of reader.entries.values()) paramCount += numel(e.shape);
      reader.close();
    } catch {
      throw new ApiError('UNAVAILABLE', `the weights file of model ${input.id} is missing or damaged`);
    }
    return { ...model, sizeBytes, tensorCount, paramCount };
  },
  'weights.delete'(input, ctx) {
    if (!deleteModel(ctx.catalog.db, ctx.dataDir, input.id)) throw new ApiError('NOT_FOUND', `no model ${input.id}`);
    return { id: input.id, deleted: true as const };
  },
};
