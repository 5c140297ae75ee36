/**
 * Datasets, items, labels, cones, splits and imports: what the renderer shows and edits of the catalog.
 * Nothing here carries an absolute path (files are named relative to the folder they were imported from)
 * or patient data (only pseudonymous keys and de-identified attributes).
 */
import { z } from 'zod';
import { defineCall } from './define';
import { JobRecord } from './jobs';
import { ConeGeometry } from '../../imaging/cone';

export const DatasetId = z.string().regex(/^ds_[0-9a-f]{6,40}$/, 'not a dataset id');
export const ItemId = z.number().int().positive();
export const SplitPart = z.enum(['train', 'val', 'test']);
export const SourceFormat = z.enum(['dicom', 'png', 'jpeg']);
const Tristate = z.enum(['include', 'exclude', 'only']);

export const DatasetSchema = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

export const DatasetSummarySchema = DatasetSchema.extend({
  items: z.number().int(),
  sources: z.number().int(),
  patients: z.number().int(),
  withMask: z.number().int(),
  duplicates: z.number().int(),
  nearDuplicates: z.number().int(),
  errors: z.number().int(),
  classLabels: z.array(z.object({ label: z.string(), count: z.number().int() })),
  organs: z.array(z.object({ organ: z.string(), count: z.number().int() })),
  lastImport: z.object({ id: z.string(), state: z.string(), startedAt: z.string(), endedAt: z.string().nullable() }).nullable(),
});
export type DatasetSummary = z.infer<typeof DatasetSummarySchema>;

export const ItemFilterSchema = z
  .object({
    /** Organ id; null = items without an organ. */
    organ: z.string().max(64).nullable().optional(),
    /** Class label; null = items without one. */
    classLabel: z.string().max(200).nullable().optional(),
    split: z.enum(['train', 'val', 'test', 'unassigned']).optional(),
    hasMask: z.boolean().optional(),
    duplicates: Tristate.optional(),
    nearDuplicates: Tristate.optional(),
    sourceId: z.number().int().positive().optional(),
    format: SourceFormat.optional(),
    pathContains: z.string().max(200).optional(),
  })
  .strict();

export const ItemSchema = z.object({
  id: z.number().int(),
  datasetId: z.string(),
  sourceId: z.number().int(),
  frameIndex: z.number().int(),
  width: z.number().int(),
  height: z.number().int(),
  channels: z.union([z.literal(1), z.literal(3)]),
  bitDepth: z.union([z.literal(8), z.literal(16)]),
  signed: z.boolean(),
  pixelKey: z.string(),
  patientKey: z.string(),
  organ: z.string().nullable(),
  classLabel: z.string().nullable(),
  folderSplit: z.string().nullable(),
  hasMask: z.boolean(),
  duplicateOf: z.number().int().nullable(),
  nearDuplicateOf: z.number().int().nullable(),
  split: SplitPart.nullable(),
  /** The source file, relative to the folder it was imported from. */
  relPath: z.string(),
  format: SourceFormat,
  sourceFrames: z.number().int(),
});
export type ItemSummary = z.infer<typeof ItemSchema>;

export const ConeRecordSchema = z.object({
  itemId: z.number().int(),
  origin: z.enum(['auto', 'corrected']),
  geometry: ConeGeometry,
  method: z.string(),
  confidence: z.number().nullable(),
  maskKey: z.string(),
  createdAt: z.string(),
});

export const AnnotationSchema = z.object({
  id: z.number().int(),
  itemId: z.number().int(),
  origin: z.enum(['ground_truth', 'predicted', 'corrected']),
  version: z.number().int(),
  label: z.string().nullable(),
  maskKey: z.string(),
  modelId: z.string().nullable(),
  createdAt: z.string(),
});

export const ItemDetailSchema = z.object({
  item: ItemSchema,
  source: z.object({
    relPath: z.string(),
    format: SourceFormat,
    frames: z.number().int(),
    importedFrames: z.number().int(),
    contentHash: z.string(),
    size: z.number().int(),
    duplicateOf: z.number().int().nullable(),
    /** De-identified attributes and technical facts only. */
    meta: z.record(z.string(), z.unknown()).nullable(),
  }),
  annotations: z.array(AnnotationSchema),
  cones: z.object({ auto: ConeRecordSchema.nullable(), corrected: ConeRecordSchema.nullable(), effective: ConeRecordSchema.nullable() }),
});

export const OrganSchema = z.object({ id: z.string(), name: z.string(), position: z.number().int(), items: z.number().int() });

export const ImportErrorSchema = z.object({
  id: z.number().int(),
  datasetId: z.string(),
  importId: z.string().nullable(),
  file: z.string(),
  code: z.string(),
  message: z.string(),
  createdAt: z.string(),
});

export const SplitSummarySchema = z.object({
  id: z.number().int(),
  datasetId: z.string(),
  seed: z.number().int(),
  test: z.number(),
  val: z.number(),
  stratify: z.enum(['class_label', 'organ']).nullable(),
  counts: z.record(SplitPart, z.object({ items: z.number().int(), patients: z.number().int() })),
  createdAt: z.string(),
});

const ImageResult = z.object({
  width: z.number().int(),
  height: z.number().int(),
  /** Of the stored frame (the PNG is 8-bit for display; 16-bit data is windowed). */
  channels: z.union([z.literal(1), z.literal(3)]),
  bitDepth: z.union([z.literal(8), z.literal(16)]),
  dataUrl: z.string(),
});

export const catalogCalls = {
  'datasets.list': defineCall('Every dataset with its counts.', z.object({}).strict(), z.array(DatasetSummarySchema)),
  'datasets.get': defineCall('One dataset with its counts.', z.object({ id: DatasetId }).strict(), DatasetSummarySchema),
  'datasets.create': defineCall(
    'Create an empty dataset (imports add to it).',
    z.object({ name: z.string().trim().min(1).max(200), description: z.string().max(2000).optional() }).strict(),
    DatasetSchema,
  ),
  'datasets.rename': defineCall('Rename a dataset.', z.object({ id: DatasetId, name: z.string().trim().min(1).max(200) }).strict(), DatasetSchema),
  'datasets.delete': defineCall(
    'Remove a dataset and its catalog records (source files are never touched).',
    z.object({ id: DatasetId }).strict(),
    z.object({ deleted: z.boolean() }),
  ),
  'datasets.export': defineCall(
    'Export a dataset for PyTorch training elsewhere (MAE / USFM folder layouts, de-identified PNGs, masks, labels, splits, manifest), as a job.',
    z
      .object({
        id: DatasetId,
        /** Absolute path of a new or empty folder (on the machine running the app). */
        outDir: z.string().min(1).max(4096),
        /** Blank pixels outside the scan cone where the item has one. */
        blankOutsideCone: z.boolean().default(true),
        /** Leave out near-duplicate frames of cine loops (exact duplicates are always left out). */
        excludeNearDuplicates: z.boolean().default(false),
      })
      .strict(),
    JobRecord,
  ),
  'items.query': defineCall(
    'A page of a dataset\'s items in id order, filtered. Pass nextCursor back as afterId for the next page.',
    z
      .object({
        datasetId: DatasetId,
        filter: ItemFilterSchema.default({}),
        limit: z.number().int().min(1).max(500).default(200),
        afterId: z.number().int().min(0).optional(),
        offset: z.number().int().min(0).max(10_000_000).optional(),
      })
      .strict(),
    z.object({ items: z.array(ItemSchema), total: z.number().int(), nextCursor: z.number().int().nullable() }),
  ),
  'items.get': defineCall('One item with its source, annotations and cones.', z.object({ id: ItemId }).strict(), ItemDetailSchema),
  'items.thumbnails': defineCall(
    'Small PNG thumbnails (data URLs) of items, for lists and grids.',
    z.object({ ids: z.array(ItemId).min(1).max(500) }).strict(),
    z.array(z.object({ id: z.number().int(), dataUrl: z.string().nullable() })),
  ),
  'items.image': defineCall(
    'The item\'s frame as an 8-bit PNG data URL for display, optionally downscaled and blanked outside the cone.',
    z.object({ id: ItemId, maxSide: z.number().int().min(16).max(4096).default(1024), blankOutsideCone: z.boolean().default(false) }).strict(),
    ImageResult,
  ),
  'items.mask': defineCall(
    'A segmentation mask of the item (newest ground truth or correction, or a given version) as a PNG data URL (255 inside).',
    z.object({ id: ItemId, version: z.number().int().min(1).optional() }).strict(),
    z.object({ annotation: AnnotationSchema, dataUrl: z.string() }).nullable(),
  ),
  'items.cone': defineCall(
    'The item\'s cone: automatic, corrected and in use, with the mask in use as a PNG data URL (255 inside).',
    z.object({ id: ItemId }).strict(),
    z.object({ auto: ConeRecordSchema.nullable(), corrected: ConeRecordSchema.nullable(), effective: ConeRecordSchema.nullable(), maskDataUrl: z.string().nullable() }),
  ),
  'items.setCone': defineCall(
    'Correct the cone: for this item, or for every frame of its source file (a cine loop shares one field of view).',
    z.object({ id: ItemId, geometry: ConeGeometry, scope: z.enum(['item', 'source']).default('source') }).strict(),
    z.object({ updated: z.number().int(), cone: ConeRecordSchema }),
  ),
  'items.resetCone': defineCall(
    'Drop the correction: the automatic cone is used again.',
    z.object({ id: ItemId, scope: z.enum(['item', 'source']).default('source') }).strict(),
    z.object({ reset: z.number().int() }),
  ),
  'labels.assign': defineCall(
    'Set (or clear, with null) the organ and/or class label of items: given ids, or every item matching a filter.',
    z
      .object({
        datasetId: DatasetId,
        ids: z.array(ItemId).max(200_000).optional(),
        filter: ItemFilterSchema.optional(),
        organ: z.string().max(64).nullable().optional(),
        classLabel: z.string().trim().min(1).max(200).nullable().optional(),
      })
      .strict(),
    z.object({ updated: z.number().int() }),
  ),
  'taxonomy.list': defineCall('The organ taxonomy, with item counts.', z.object({}).strict(), z.array(OrganSchema)),
  'taxonomy.add': defineCall('Add an organ to the taxonomy.', z.object({ name: z.string().trim().min(1).max(100) }).strict(), OrganSchema),
  'taxonomy.rename': defineCall('Rename an organ (its id stays).', z.object({ id: z.string().min(1).max(64), name: z.string().trim().min(1).max(100) }).strict(), OrganSchema),
  'taxonomy.remove': defineCall(
    'Remove an organ; its items become unlabelled.',
    z.object({ id: z.string().min(1).max(64) }).strict(),
    z.object({ unlabelled: z.number().int() }),
  ),
  'taxonomy.reorder': defineCall('Put the organs in this order.', z.object({ ids: z.array(z.string().min(1).max(64)).max(1000) }).strict(), z.array(OrganSchema)),
  'import.start': defineCall(
    'Import files and folders (DICOM, PNG, JPEG; class folders, TN3K and BUSI mask layouts) into a dataset, as a job.',
    z
      .object({
        paths: z.array(z.string().min(1).max(4096)).min(1).max(10_000),
        datasetId: DatasetId.optional(),
        /** Created when no dataset has this name. */
        datasetName: z.string().trim().min(1).max(200).optional(),
        stride: z.number().int().min(1).max(10_000).default(1),
        maxFrames: z.number().int().min(1).optional(),
        organ: z.string().max(64).nullable().optional(),
        classLabel: z.string().trim().min(1).max(200).nullable().optional(),
      })
      .strict()
      .refine((v) => (v.datasetId === undefined) !== (v.datasetName === undefined), { message: 'give datasetId or datasetName' }),
    JobRecord,
  ),
  'import.resume': defineCall(
    'Run an interrupted or finished import again: files already imported are skipped, the rest are imported.',
    z.object({ importId: z.string().min(1).max(100) }).strict(),
    JobRecord,
  ),
  'import.list': defineCall(
    'The imports of a dataset, newest first.',
    z.object({ datasetId: DatasetId }).strict(),
    z.array(
      z.object({
        id: z.string(),
        datasetId: z.string(),
        /** Folder and file names given (not their full paths). */
        roots: z.array(z.string()),
        state: z.enum(['running', 'done', 'stopped', 'failed']),
        summary: z.unknown(),
        startedAt: z.string(),
        endedAt: z.string().nullable(),
      }),
    ),
  ),
  'import.errors': defineCall(
    'Files that could not be imported, with the cause.',
    z
      .object({
        datasetId: DatasetId.optional(),
        importId: z.string().max(100).optional(),
        limit: z.number().int().min(1).max(1000).default(100),
        offset: z.number().int().min(0).default(0),
      })
      .strict(),
    z.object({ errors: z.array(ImportErrorSchema), total: z.number().int() }),
  ),
  'splits.create': defineCall(
    'Split a dataset into train / validation / test, seeded, grouped by patient, stratified by label where possible.',
    z
      .object({
        datasetId: DatasetId,
        seed: z.number().int().min(0).max(2 ** 31 - 1).default(0),
        test: z.number().min(0).max(0.9).default(0.2),
        val: z.number().min(0).max(0.9).default(0),
        stratify: z.enum(['auto', 'class_label', 'organ', 'none']).default('auto'),
      })
      .strict()
      .refine((v) => v.test + v.val < 1, { message: 'test + val must be below 1' }),
    SplitSummarySchema,
  ),
  'splits.get': defineCall('The dataset\'s current split, or null.', z.object({ datasetId: DatasetId }).strict(), SplitSummarySchema.nullable()),
};
