import { z } from 'zod';
import { defineCall } from './define';
import { JobRecord } from './jobs';

export const ModelId = z.string().regex(/^mdl_[0-9a-z]{6,40}$/, 'not a model id');

/** main/ml/vit's VitConfig. */
export const VitConfigSchema = z.object({
  layout: z.enum(['timm', 'beit']),
  embedDim: z.number().int().positive(),
  depth: z.number().int().positive(),
  numHeads: z.number().int().positive(),
  patchSize: z.number().int().positive(),
  imgSize: z.number().int().positive(),
  mlpRatio: z.number().positive(),
  dropPathRate: z.number().min(0).max(1),
  lnEps: z.number().positive(),
  posEmbed: z.enum(['sincos', 'learned']),
  layerScaleInit: z.number(),
  pooling: z.enum(['cls', 'mean']),
  maskToken: z.boolean(),
});

export const MaeDecoderConfigSchema = z.object({
  embedDim: z.number().int().positive(),
  depth: z.number().int().positive(),
  numHeads: z.number().int().positive(),
  mlpRatio: z.number().positive(),
  posEmbed: z.enum(['sincos', 'learned']),
  outChans: z.number().int().positive(),
});

export const ModelConfigSchema = z.object({
  vit: VitConfigSchema,
  decoder: MaeDecoderConfigSchema.optional(),
  relPosBias: z.enum(['shared', 'per-block']).optional(),
});

export const ModelSource = z.enum(['imported', 'pretrained', 'finetuned']);

export const ModelRecordSchema = z.object({
  id: ModelId,
  name: z.string(),
  source: ModelSource,
  layout: z.enum(['timm', 'beit']),
  task: z.string(),
  config: ModelConfigSchema,
  /** Relative to the data directory. */
  file: z.string(),
  runId: z.string().nullable(),
  metadata: z.record(z.string(), z.unknown()),
  createdAt: z.string(),
});
export type ModelRecordResult = z.infer<typeof ModelRecordSchema>;

export const ModelDetails = ModelRecordSchema.extend({
  sizeBytes: z.number().int(),
  tensorCount: z.number().int(),
  paramCount: z.number().int(),
});

export const WeightsLayoutChoice = z.enum(['auto', 'usfm', 'mae', 'timm']);

export const weightsCalls = {
  'weights.import': defineCall(
    'Import a .safetensors or PyTorch .pth/.pt/.ckpt checkpoint (USFM, MAE, timm or this app\'s layout) as a job; its result is the new model and the import report.',
    z
      .object({
        file: z.string().min(1).max(4096),
        name: z.string().trim().min(1).max(200),
        layout: WeightsLayoutChoice.default('auto'),
        /** Resize position tables to this image size (same patch size). */
        imgSize: z.number().int().min(16).max(4096).optional(),
        numHeads: z.number().int().min(1).max(256).optional(),
        keepDecoder: z.boolean().default(true),
        /** manifest.json of the `usfm dataset export` the weights were trained on elsewhere: recorded as provenance. */
        datasetManifest: z.string().min(1).max(4096).optional(),
      })
      .strict(),
    JobRecord,
  ),
  'weights.export': defineCall(
    'Write a model as safetensors with PyTorch names and metadata (recipe, configuration, dataset manifest hash, metrics).',
    z
      .object({
        id: ModelId,
        out: z.string().min(1).max(4096),
        /** Encoder only (no MAE decoder): what timm's VisionTransformer loads with strict=True. */
        backboneOnly: z.boolean().default(false),
      })
      .strict(),
    z.object({ id: ModelId, fileName: z.string(), tensors: z.number().int(), bytes: z.number().int(), metadata: z.record(z.string(), z.string()) }),
  ),
  'weights.list': defineCall(
    'Registered models, newest first.',
    z.object({ limit: z.number().int().min(1).max(1000).default(200), source: ModelSource.optional(), task: z.string().max(64).optional() }).strict(),
    z.array(ModelRecordSchema),
  ),
  'weights.get': defineCall('One model, with its size and parameter count.', z.object({ id: ModelId }).strict(), ModelDetails),
  'weights.delete': defineCall('Remove a model and its files.', z.object({ id: ModelId }).strict(), z.object({ id: ModelId, deleted: z.literal(true) })),
};
