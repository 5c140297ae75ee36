import fs from 'node:fs';
import path from 'node:path';
import type { catalogCalls } from '../contract/catalog';
import type { HandlerSet } from './types';
import { ApiError } from '../errors';
import type { AppContext } from '../../app/context';
import {
  createDataset,
  DatasetNameTaken,
  deleteDataset,
  findDatasetByName,
  getDataset,
  listDatasets,
  renameDataset,
  summarizeDataset,
  type Dataset,
} from '../../catalog/datasets';
import { assignLabels, getItem, itemIds, queryItems, type ItemFilter, type ItemRow } from '../../catalog/items';
import { addOrgan, getOrgan, listOrgans, removeOrgan, renameOrgan, reorderOrgans, TaxonomyError } from '../../catalog/labels';
import { deleteCorrectedCone, getCones, saveCone } from '../../catalog/cones';
import { currentMask, listAnnotations } from '../../catalog/annotations';
import { getSource } from '../../catalog/sources';
import { listImportErrors } from '../../catalog/import-errors';
import { getImport, listImports } from '../../catalog/imports';
import { createSplit, getCurrentSplit } from '../../catalog/splits';
import { blankOutsideCone, rasterizeCone } from '../../imaging/cone';
import { encodePng, pngDataUrl } from '../../imaging/png';
import { readCachedRaster, readThumbnail, writeThumbnail } from '../../imaging/pixel-cache';
import { resizeArea8, toDisplay8 } from '../../imaging/raster';
import { makeThumbnail } from '../../imaging/thumbnail';
import { storeMask } from '../../ingest/importer';
import type { ImportJobParams } from '../../ingest/import-job';
import { liveImport } from '../../ingest/samples';
import { outputFolderInUse } from '../../weights/dataset-export';

function dataset(ctx: AppContext, id: string): Dataset {
  const ds = getDataset(ctx.catalog.db, id);
  if (!ds) throw new ApiError('NOT_FOUND', `no dataset ${id}`);
  return ds;
}

function item(ctx: AppContext, id: number): ItemRow {
  const it = getItem(ctx.catalog.db, id);
  if (!it) throw new ApiError('NOT_FOUND', `no item ${id}`);
  return it;
}

function taxonomy<T>(run: () => T): T {
  try {
    return run();
  } catch (err) {
    if (err instanceof TaxonomyError) throw new ApiError(err.code, err.message);
    throw err;
  }
}

function named<T>(run: () => T): T {
  try {
    return run();
  } catch (err) {
    if (err instanceof DatasetNameTaken) throw new ApiError('CONFLICT', err.message);
    throw err;
  }
}

function checkOrgan(ctx: AppContext, organ: string | null | undefined): void {
  if (organ && !getOrgan(ctx.catalog.db, organ)) throw new ApiError('BAD_INPUT', `"${organ}" is not in the organ taxonomy`);
}

/** The items a cone edit applies to: the item, or every frame of its source file. */
function coneTargets(ctx: AppContext, it: ItemRow, scope: 'item' | 'source'): ItemRow[] {
  if (scope === 'item') return [it];
  return queryItems(ctx.catalog.db, { datasetId: it.datasetId, sourceId: it.sourceId }, { limit: 100_000, withTotal: false }).items;
}

export function startImport(ctx: AppContext, params: ImportJobParams, datasetName: string) {
  if (liveImport(ctx, params.datasetId)) throw new ApiError('CONFLICT', `an import into "${datasetName}" is already running; wait for it or cancel it`);
  return ctx.jobs.start('import', params, `Import into "${datasetName}" (${params.paths.map((p) => path.basename(p)).join(', ').slice(0, 120)})`);
}

export const catalogHandlers: HandlerSet<keyof typeof catalogCalls> = {
  'datasets.list'(_input, ctx) {
    return listDatasets(ctx.catalog.db);
  },
  'datasets.get'(input, ctx) {
    return summarizeDataset(ctx.catalog.db, dataset(ctx, input.id));
  },
  'datasets.create'(input, ctx) {
    return named(() => createDataset(ctx.catalog.db, input.name, input.description ?? null));
  },
  'datasets.rename'(input, ctx) {
    dataset(ctx, input.id);
    return named(() => renameDataset(ctx.catalog.db, input.id, input.name));
  },
  'datasets.export'(input, ctx) {
    const ds = dataset(ctx, input.id);
    if (!path.isAbsolute(input.outDir)) throw new ApiError('BAD_INPUT', 'the output folder must be an absolute path');
    const outDir = path.resolve(input.outDir);
    // Checked again by the job; here so that the form shows the problem at once.
    if (outputFolderInUse(outDir)) {
      throw new ApiError('CONFLICT', `${path.basename(outDir)} exists and is not an empty folder: choose a new or empty folder`);
    }
    if (liveImport(ctx, ds.id)) throw new ApiError('CONFLICT', `an import into "${ds.name}" is running; export when it has finished`);
    const params = { dataset: ds.id, outDir, blankOutsideCone: input.blankOutsideCone, excludeNearDuplicates: input.excludeNearDuplicates };
    return ctx.jobs.start('dataset-export', params, `Export dataset "${ds.name}" to ${path.basename(outDir)}`);
  },
  'datasets.delete'(input, ctx) {
    if (liveImport(ctx, input.id)) throw new ApiError('CONFLICT', 'an import into this dataset is running; cancel it first');
    return { deleted: deleteDataset(ctx.catalog.db, input.id) };
  },

  'items.query'(input, ctx) {
    dataset(ctx, input.datasetId);
    const filter: ItemFilter = { datasetId: input.datasetId, ...input.filter };
    return queryItems(ctx.catalog.db, filter, { limit: input.limit, afterId: input.afterId, offset: input.offset });
  },
  'items.get'(input, ctx) {
    const it = item(ctx, input.id);
    const source = getSource(ctx.catalog.db, it.sourceId)!;
    return {
      item: it,
      source: {
        relPath: source.relPath,
        format: source.format,
        frames: source.frames,
        importedFrames: source.importedFrames,
        contentHash: source.contentHash,
        size: source.size,
        duplicateOf: source.duplicateOf,
        meta: source.meta,
      },
      annotations: listAnnotations(ctx.catalog.db, it.id),
      cones: getCones(ctx.catalog.db, it.id),
    };
  },
  'items.thumbnails'(input, ctx) {
    const keys = new Map<number, string>();
    const rows = ctx.catalog.db
      .prepare(`SELECT id, pixel_key FROM items WHERE id IN (${input.ids.map(() => '?').join(',')})`)
      .all(...input.ids) as { id: number; pixel_key: string }[];
    for (const r of rows) keys.set(r.id, r.pixel_key);
    return input.ids.map((id) => {
      const key = keys.get(id);
      if (!key) return { id, dataUrl: null };
      let png = readThumbnail(ctx.dataDir, key);
      if (!png) {
        // Thumbnails are made at import; one lost from the cache is made again from the pixels.
        try {
          png = makeThumbnail(readCachedRaster(ctx.dataDir, key));
          writeThumbnail(ctx.dataDir, key, png);
        } catch {
          return { id, dataUrl: null };
        }
      }
      return { id, dataUrl: pngDataUrl(png) };
    });
  },
  'items.image'(input, ctx) {
    const it = item(ctx, input.id);
    let raster = readCachedRaster(ctx.dataDir, it.pixelKey);
    if (input.blankOutsideCone) {
      const cone = getCones(ctx.catalog.db, it.id).effective;
      if (cone) raster = blankOutsideCone(raster, rasterizeCone(cone.geometry, raster.width, raster.height));
    }
    const display = toDisplay8(raster);
    const small = resizeArea8(display.data, raster.width, raster.height, display.channels, input.maxSide);
    const png = encodePng({ width: small.width, height: small.height, channels: display.channels, bitDepth: 8, signed: false, data: small.data }, { deflateLevel: 4 });
    return { width: raster.width, height: raster.height, channels: raster.channels, bitDepth: raster.bitDepth, dataUrl: pngDataUrl(png) };
  },
  'items.mask'(input, ctx) {
    item(ctx, input.id);
    const annotation = input.version
      ? (listAnnotations(ctx.catalog.db, input.id).find((a) => a.version === input.version) ?? null)
      : currentMask(ctx.catalog.db, input.id);
    if (!annotation) return null;
    return { annotation, dataUrl: pngDataUrl(encodePng(readCachedRaster(ctx.dataDir, annotation.maskKey))) };
  },
  'items.cone'(input, ctx) {
    item(ctx, input.id);
    const cones = getCones(ctx.catalog.db, input.id);
    const maskDataUrl = cones.effective ? pngDataUrl(encodePng(readCachedRaster(ctx.dataDir, cones.effective.maskKey))) : null;
    return { ...cones, maskDataUrl };
  },
  'items.setCone'(input, ctx) {
    const it = item(ctx, input.id);
    const mask = rasterizeCone(input.geometry, it.width, it.height);
    if (!mask.some((v) => v === 1)) throw new ApiError('BAD_INPUT', 'the cone does not cover any pixel of the image');
    const maskKey = storeMask(ctx.dataDir, mask, it.width, it.height);
    const targets = coneTargets(ctx, it, input.scope).filter((t) => t.width === it.width && t.height === it.height);
    ctx.catalog.db.transaction(() => {
      for (const t of targets) saveCone(ctx.catalog.db, { itemId: t.id, origin: 'corrected', geometry: input.geometry, method: 'user', confidence: null, maskKey });
    })();
    return { updated: targets.length, cone: getCones(ctx.catalog.db, it.id).corrected! };
  },
  'items.resetCone'(input, ctx) {
    const it = item(ctx, input.id);
    let reset = 0;
    ctx.catalog.db.transaction(() => {
      for (const t of coneTargets(ctx, it, input.scope)) if (deleteCorrectedCone(ctx.catalog.db, t.id)) reset++;
    })();
    return { reset };
  },

  'labels.assign'(input, ctx) {
    dataset(ctx, input.datasetId);
    if (input.organ === undefined && input.classLabel === undefined) throw new ApiError('BAD_INPUT', 'nothing to assign: give organ and/or classLabel');
    if ((input.ids === undefined) === (input.filter === undefined)) throw new ApiError('BAD_INPUT', 'give either ids or filter');
    checkOrgan(ctx, input.organ);
    const db = ctx.catalog.db;
    let ids: number[];
    if (input.ids) {
      const inDataset = new Set(itemIds(db, { datasetId: input.datasetId }));
      ids = input.ids.filter((id) => inDataset.has(id));
      if (ids.length !== input.ids.length) throw new ApiError('NOT_FOUND', `${input.ids.length - ids.length} of the items are not in this dataset`);
    } else ids = itemIds(db, { datasetId: input.datasetId, ...input.filter });
    return { updated: assignLabels(db, ids, { organ: input.organ, classLabel: input.classLabel }) };
  },

  'taxonomy.list'(_input, ctx) {
    return listOrgans(ctx.catalog.db);
  },
  'taxonomy.add'(input, ctx) {
    return taxonomy(() => addOrgan(ctx.catalog.db, input.name));
  },
  'taxonomy.rename'(input, ctx) {
    return taxonomy(() => renameOrgan(ctx.catalog.db, input.id, input.name));
  },
  'taxonomy.remove'(input, ctx) {
    return taxonomy(() => removeOrgan(ctx.catalog.db, input.id));
  },
  'taxonomy.reorder'(input, ctx) {
    return reorderOrgans(ctx.catalog.db, input.ids);
  },

  'import.start'(input, ctx) {
    const paths = input.paths.map((p) => {
      if (!path.isAbsolute(p)) throw new ApiError('BAD_INPUT', `paths must be absolute: ${path.basename(p)}`);
      if (!fs.existsSync(p)) throw new ApiError('NOT_FOUND', `no such file or folder: ${path.basename(p)}`);
      return path.resolve(p);
    });
    checkOrgan(ctx, input.organ);
    const db = ctx.catalog.db;
    const ds = input.datasetId ? dataset(ctx, input.datasetId) : (findDatasetByName(db, input.datasetName!) ?? named(() => createDataset(db, input.datasetName!)));
    const params: ImportJobParams = { datasetId: ds.id, paths, stride: input.stride, maxFrames: input.maxFrames, organ: input.organ, classLabel: input.classLabel };
    return startImport(ctx, params, ds.name);
  },
  'import.resume'(input, ctx) {
    const record = getImport(ctx.catalog.db, input.importId);
    if (!record) throw new ApiError('NOT_FOUND', `no import ${input.importId}`);
    const ds = dataset(ctx, record.datasetId);
    const params = record.params as ImportJobParams & { importId?: string };
    const { importId: _previous, ...rest } = params;
    return startImport(ctx, { ...rest, datasetId: ds.id, paths: record.roots }, ds.name);
  },
  'import.list'(input, ctx) {
    dataset(ctx, input.datasetId);
    return listImports(ctx.catalog.db, input.datasetId).map((r) => ({
      id: r.id,
      datasetId: r.datasetId,
      roots: r.roots.map((p) => path.basename(p)),
      state: r.state,
      summary: r.summary,
      startedAt: r.startedAt,
      endedAt: r.endedAt,
    }));
  },
  'import.errors'(input, ctx) {
    return listImportErrors(ctx.catalog.db, input);
  },

  'splits.create'(input, ctx) {
    dataset(ctx, input.datasetId);
    return createSplit(ctx.catalog.db, input);
  },
  'splits.get'(input, ctx) {
    dataset(ctx, input.datasetId);
    return getCurrentSplit(ctx.catalog.db, input.datasetId);
  },
};
