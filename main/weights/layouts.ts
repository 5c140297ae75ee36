/**
 * From a checkpoint's state dict, whatever code wrote it, to the workbench's own layout:
 *
 * - usfm (BEiT naming): `rel_pos_bias.relative_position_bias_table` shared by every block, or the same table
 *   copied into each `blocks.<i>.attn.relative_position_bias_table` (collapsed back to the shared one when the
 *   copies are identical); the `relative_position_index` buffers are dropped (they are recomputed).
 * - mae: `{'model': state_dict}` with timm names; the decoder (`mask_token`, `decoder_*`) is kept.
 * - timm: timm's VisionTransformer (`pos_embed`, `attn.qkv.bias`, `norm`).
 * - project: a safetensors file written by this app (`usfm_workbench` metadata): its configuration is used.
 *
 * The ViT size is inferred from the shapes: dim and patch size from `patch_embed.proj.weight`, depth from the
 * block count, heads from the relative position table (or dim / 64), the grid from `pos_embed` rows or the
 * table's (2g-1)^2 + 3 rows. A different target image size resizes the position tables: MAE's sin-cos tables
 * are regenerated, learned ones resized bicubically (timm's resample_abs_pos_embed, antialias off), and
 * relative position tables resized as timm's resize_rel_pos_bias_table (bicubic on the (2g-1)^2 part, the 3
 * CLS rows kept).
 */
import { gridSize, validateVitConfig, vitConfig, type VitConfig } from '../ml/vit/config';
import { isSincosPosEmbed, resampleAbsPosEmbed, resizeRelPosBiasTable, sincosPosEmbed2d } from './interpolate';
import { expectedTensors, parseModelConfig, type MaeDecoderConfig, type ModelConfig } from './model-config';
import { countBlocks, listText, numel, sameShape, shapeText, type StateDict } from './state-dict';
import type { LazyTensor, WeightsFile } from './weights-file';

export type SourceLayout = 'usfm' | 'mae' | 'timm' | 'project';
export type LayoutChoice = 'auto' | 'usfm' | 'mae' | 'timm';

export interface NormaliseOptions {
  layout?: LayoutChoice;
  /** Target image size (default: the checkpoint's own). Position tables are resized to its patch grid. */
  imgSize?: number;
  /** Attention heads, when dim / 64 is not the right guess for a timm-layout checkpoint. */
  numHeads?: number;
  /** MAE decoder heads (MAE's default: 16). */
  decoderNumHeads?: number;
  /** Keep the MAE decoder (default true: continued pretraining needs it). */
  keepDecoder?: boolean;
  /** Called after each tensor is read (progress). */
  onTensor?: (done: number, total: number) => void;
  /** Checked between tensors: throw to stop (job cancellation). */
  checkStop?: () => void;
}

export interface ImportReport {
  format: WeightsFile['format'];
  sourceLayout: SourceLayout;
  wrapperKey: string | null;
  /** Prefix stripped from the names (`module.`, `encoder.`...), '' when none. */
  prefix: string;
  /** Tensors the model has that the file did not provide (only optional parts: the file is refused otherwise). */
  missing: string[];
  /** Tensors in the file the model has no place for (dropped). */
  unexpected: string[];
  /** Buffers dropped on purpose (recomputed: relative_position_index, ...). */
  dropped: string[];
  /** Tensors changed on the way: "pos_embed: 7x7 -> 14x14 grid, bicubic". */
  converted: string[];
  warnings: string[];
}

export interface NormalisedWeights {
  config: ModelConfig;
  tensors: StateDict;
  report: ImportReport;
  /** The file's own safetensors metadata (recipe, metrics... of the project's checkpoints). */
  metadata: Record<string, string>;
}

export class ImportRefusedError extends Error {
  constructor(
    message: string,
    readonly details: { missing?: string[]; unexpected?: string[]; mismatched?: string[] } = {},
  ) {
    super(message);
    this.name = 'ImportRefusedError';
  }
}

const DERIVED = [/(^|\.)relative_position_index$/, /(^|\.)num_batches_tracked$/, /(^|\.)attn\.k_bias$/];
const SHARED_TABLE = 'rel_pos_bias.relative_position_bias_table';
const BLOCK_TABLE = /^blocks\.(\d+)\.attn\.relative_position_bias_table$/;
const PATCH_WEIGHT = 'patch_embed.proj.weight';

/** The prefix in front of the backbone's names (`module.`, `model.`, `encoder.`, `backbone.`...). */
function findPrefix(names: string[]): string {
  const candidates = names.filter((n) => n.endsWith(PATCH_WEIGHT) && !/decoder/.test(n)).map((n) => n.slice(0, -PATCH_WEIGHT.length));
  if (!candidates.length) {
    throw new ImportRefusedError(
      `no ViT patch embedding (patch_embed.proj.weight) in this file: it is not a ViT checkpoint this app can read (first names: ${listText(names.slice(0, 6))})`,
    );
  }
  return candidates.sort((a, b) => a.length - b.length)[0]!;
}

function equalArrays(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i] && !(Number.isNaN(a[i]) && Number.isNaN(b[i]))) return false;
  return true;
}

function gridFromTokens(tokens: number): { grid: number; prefix: number } | null {
  for (const prefix of [1, 0]) {
    const g = Math.round(Math.sqrt(tokens - prefix));
    if (g > 0 && g * g === tokens - prefix) return { grid: g, prefix };
  }
  return null;
}

function gridFromTableRows(rows: number): number | null {
  const side = Math.round(Math.sqrt(rows - 3));
  if (side * side !== rows - 3 || side % 2 !== 1) return null;
  return (side + 1) / 2;
}

export async function normaliseWeights(file: WeightsFile, options: NormaliseOptions = {}): Promise<NormalisedWeights> {
  const choice = options.layout ?? 'auto';
  const fileNames = [...file.tensors.keys()];
  const prefix = findPrefix(fileNames);
  const report: ImportReport = {
    format: file.format,
    sourceLayout: 'timm',
    wrapperKey: file.wrapperKey,
    prefix,
    missing: [],
    unexpected: [],
    dropped: [],
    converted: [],
    warnings: [],
  };
  if (file.nonTensorKeys.length) report.warnings.push(`skipped non-tensor entries: ${listText(file.nonTensorKeys)}`);

  // Names relative to the backbone; names outside it (a SimMIM decoder, a teacher...) stay as they are.
  const src = new Map<string, LazyTensor>();
  const outside: string[] = [];
  for (const [name, t] of file.tensors) {
    if (DERIVED.some((re) => re.test(name))) {
      report.dropped.push(name);
      continue;
    }
    if (name.startsWith(prefix)) src.set(name.slice(prefix.length), t);
    else outside.push(name);
  }
  const names = [...src.keys()];
  const has = (n: string): boolean => src.has(n);
  const shapeOf = (n: string): number[] => src.get(n)!.shape;
  const cache = new Map<string, Float32Array>();
  const value = async (n: string): Promise<Float32Array> => {
    let v = cache.get(n);
    if (!v) {
      v = await src.get(n)!.read();
      cache.set(n, v);
    }
    return v;
  };

  // Layout: the project's own files carry their configuration; otherwise BEiT vs timm by parameter names.
  const projectConfig = file.metadata.usfm_workbench && file.metadata.config ? parseModelConfig(JSON.parse(file.metadata.config)) : null;
  const beit = has(SHARED_TABLE) || names.some((n) => BLOCK_TABLE.test(n)) || has('blocks.0.attn.q_bias') || has('blocks.0.gamma_1');
  const timm = has('blocks.0.attn.qkv.bias') || has('pos_embed');
  const layout: VitConfig['layout'] = projectConfig?.vit.layout ?? (beit && !has('blocks.0.attn.qkv.bias') ? 'beit' : 'timm');
  if (!projectConfig && !beit && !timm) {
    throw new ImportRefusedError('cannot tell the parameter layout: neither BEiT/USFM names (q_bias, relative_position_bias_table) nor timm names (qkv.bias, pos_embed) are present');
  }
  const hasMaeDecoder = has('decoder_embed.weight');
  report.sourceLayout = projectConfig ? 'project' : layout === 'beit' ? 'usfm' : hasMaeDecoder || file.wrapperKey === 'model' ? 'mae' : 'timm';
  if (choice !== 'auto' && !projectConfig) {
    const fits = choice === 'usfm' ? layout === 'beit' : layout === 'timm';
    if (!fits) throw new ImportRefusedError(`--layout ${choice} does not fit this file: its parameter names are ${layout === 'beit' ? 'BEiT/USFM' : 'timm/MAE'} names (use --layout auto)`);
    if (choice !== 'usfm') report.sourceLayout = choice;
  }

  // Relative position tables: one shared table is what the workbench ViT uses.
  let relPosBias: ModelConfig['relPosBias'] = projectConfig?.relPosBias;
  const blockTables = names.filter((n) => BLOCK_TABLE.test(n));
  if (layout === 'beit' && !projectConfig) {
    if (has(SHARED_TABLE)) {
      relPosBias = 'shared';
      const shared = await value(SHARED_TABLE);
      for (const n of blockTables) {
        if (equalArrays(await value(n), shared)) report.dropped.push(`${prefix}${n} (copy of the shared table)`);
        else report.unexpected.push(`${prefix}${n}`);
        src.delete(n);
      }
    } else if (blockTables.length) {
      const first = await value(blockTables[0]!);
      let identical = true;
      for (const n of blockTables.slice(1)) identical &&= equalArrays(await value(n), first);
      if (identical) {
        relPosBias = 'shared';
        src.set(SHARED_TABLE, { ...src.get(blockTables[0]!)!, read: async () => first });
        cache.set(SHARED_TABLE, first);
        for (const n of blockTables) src.delete(n);
        report.converted.push(`${blockTables.length} identical per-block relative position tables -> ${SHARED_TABLE}`);
      } else {
        relPosBias = 'per-block';
        report.warnings.push(
          'the per-block relative position tables differ from each other: they are kept per block (config relPosBias "per-block"); ' +
            'the workbench ViT needs per-block table support to use them',
        );
      }
    }
  }

  // Configuration: from the file's own metadata, or inferred from the shapes.
  let config: ModelConfig;
  let sourceGrid: number;
  if (projectConfig) {
    config = projectConfig;
    sourceGrid = gridSize(projectConfig.vit);
  } else {
    const inferred = await inferConfig(src, layout, relPosBias, options, report);
    config = inferred.config;
    sourceGrid = inferred.grid;
  }

  // Target grid: same patch size, new image size.
  const targetImg = options.imgSize ?? config.vit.imgSize;
  if (targetImg % config.vit.patchSize !== 0) {
    throw new ImportRefusedError(`image size ${targetImg} is not a multiple of the checkpoint's ${config.vit.patchSize} px patches`);
  }
  config = { ...config, vit: { ...config.vit, imgSize: targetImg } };
  validateVitConfig(config.vit);
  const targetGrid = targetImg / config.vit.patchSize;
  if (options.keepDecoder === false && config.decoder) {
    report.dropped.push('MAE decoder (not kept on request)');
    config = { ...config, decoder: undefined };
  }

  const expected = expectedTensors(config);
  const out: StateDict = new Map();
  const mismatched: string[] = [];
  const missingBackbone: string[] = [];
  const missingDecoder: string[] = [];
  let done = 0;
  const total = expected.size;
  for (const [name, spec] of expected) {
    options.checkStop?.();
    if (!src.has(name)) {
      (spec.group === 'backbone' ? missingBackbone : missingDecoder).push(name);
      continue;
    }
    let shape = shapeOf(name);
    let data = await value(name);
    cache.delete(name);
    ({ shape, data } = await adapt(name, shape, data, config, sourceGrid, targetGrid, report));
    if (!sameShape(shape, spec.shape) || data.length !== numel(spec.shape)) {
      mismatched.push(`${prefix}${name}: file ${shapeText(shape)}, model ${shapeText(spec.shape)}`);
    } else {
      out.set(name, { shape: spec.shape, data });
    }
    options.onTensor?.(++done, total);
  }
  if (mismatched.length) {
    throw new ImportRefusedError(`tensor shapes do not fit the inferred ${config.vit.layout} ViT: ${listText(mismatched, 5)}`, { mismatched });
  }
  if (missingBackbone.length) {
    throw new ImportRefusedError(
      `refusing to import: the backbone would be left partly uninitialised; missing ${missingBackbone.length} tensor(s): ${listText(missingBackbone)}`,
      { missing: missingBackbone },
    );
  }
  if (missingDecoder.length && config.decoder) {
    report.warnings.push(`the MAE decoder is incomplete (${listText(missingDecoder, 4)} missing): it is not kept`);
    report.missing.push(...missingDecoder);
    for (const [name, spec] of expected) if (spec.group === 'decoder') out.delete(name);
    config = { ...config, decoder: undefined };
  }

  // Whatever the model has no place for.
  const architectural: string[] = [];
  for (const name of src.keys()) {
    if (expected.has(name)) continue;
    if (/^(blocks\.\d+\.|patch_embed\.|pos_embed$|rel_pos_bias\.)/.test(name)) architectural.push(`${prefix}${name}`);
    else report.unexpected.push(`${prefix}${name}`);
  }
  report.unexpected.push(...outside);
  if (architectural.length) {
    throw new ImportRefusedError(
      `refusing to import: the backbone has parameters this ViT does not (a different architecture): ${listText(architectural)}`,
      { unexpected: architectural },
    );
  }
  return { config, tensors: out, report, metadata: file.metadata };
}

async function inferConfig(
  src: Map<string, LazyTensor>,
  layout: VitConfig['layout'],
  relPosBias: ModelConfig['relPosBias'],
  options: NormaliseOptions,
  report: ImportReport,
): Promise<{ config: ModelConfig; grid: number }> {
  const names = [...src.keys()];
  const patch = src.get(PATCH_WEIGHT)!.shape;
  if (patch.length !== 4 || patch[2] !== patch[3]) throw new ImportRefusedError(`unsupported patch embedding shape ${shapeText(patch)} (square patches only)`);
  const [embedDim, , patchSize] = patch as [number, number, number, number];
  const depth = countBlocks(names);
  if (depth === 0) throw new ImportRefusedError('no transformer blocks (blocks.<i>.*) in this file');
  const fc1 = src.get('blocks.0.mlp.fc1.weight')?.shape;
  const mlpRatio = fc1 ? fc1[0]! / embedDim : 4;

  let grid: number | null = null;
  let numHeads = options.numHeads ?? null;
  let posEmbed: VitConfig['posEmbed'] = 'learned';
  if (layout === 'beit') {
    const tableName = src.has(SHARED_TABLE) ? SHARED_TABLE : names.find((n) => BLOCK_TABLE.test(n));
    if (tableName) {
      const [rows, heads] = src.get(tableName)!.shape as [number, number];
      grid = gridFromTableRows(rows);
      if (grid === null) throw new ImportRefusedError(`relative position table with ${rows} rows is not (2g-1)^2 + 3 for any grid g`);
      if (numHeads !== null && numHeads !== heads) throw new ImportRefusedError(`the relative position table has ${heads} heads, not ${numHeads}`);
      numHeads = heads;
    }
  } else if (src.has('pos_embed')) {
    const shape = src.get('pos_embed')!.shape;
    const found = gridFromTokens(shape[1]!);
    if (!found) throw new ImportRefusedError(`pos_embed has ${shape[1]} rows: not a square patch grid`);
    grid = found.grid;
    if (found.prefix === 0) {
      // timm's no_embed_class: the CLS token gets no position; a zero row is equivalent.
      const data = await valueFresh(src, 'pos_embed');
      const withCls = new Float32Array(data.length + embedDim);
      withCls.set(data, embedDim);
      src.set('pos_embed', { shape: [1, grid * grid + 1, embedDim], dtype: 'F32', read: async () => withCls });
      report.converted.push('pos_embed: a zero CLS row added (the checkpoint had positions for patches only)');
    }
  }
  if (grid === null) throw new ImportRefusedError('cannot infer the image size: no pos_embed and no relative position table');
  if (numHeads === null) {
    if (embedDim % 64 !== 0) throw new ImportRefusedError(`cannot infer the number of attention heads for dim ${embedDim}; give it explicitly`);
    numHeads = embedDim / 64;
  }
  if (layout === 'timm' && src.has('pos_embed')) {
    posEmbed = isSincosPosEmbed(await valueFresh(src, 'pos_embed'), embedDim, grid) ? 'sincos' : 'learned';
  }
  const pooling: VitConfig['pooling'] = src.has('fc_norm.weight') && (!src.has('norm.weight') || layout === 'beit') ? 'mean' : 'cls';
  const maskToken = layout === 'beit' && src.has('mask_token') && src.get('mask_token')!.shape.at(-1) === embedDim;

  let decoder: MaeDecoderConfig | undefined;
  if (layout === 'timm' && src.has('decoder_embed.weight')) {
    const [decDim] = src.get('decoder_embed.weight')!.shape as [number, number];
    const decFc1 = src.get('decoder_blocks.0.mlp.fc1.weight')?.shape;
    const pred = src.get('decoder_pred.weight')?.shape;
    const decHeads = options.decoderNumHeads ?? 16;
    const outChans = pred ? pred[0]! / (patchSize * patchSize) : 3;
    let decPos: MaeDecoderConfig['posEmbed'] = 'sincos';
    if (src.has('decoder_pos_embed')) {
      decPos = isSincosPosEmbed(await valueFresh(src, 'decoder_pos_embed'), decDim, grid) ? 'sincos' : 'learned';
    }
    if (decDim % decHeads === 0 && Number.isInteger(outChans)) {
      decoder = { embedDim: decDim, depth: countBlocks(names, 'decoder_blocks'), numHeads: decHeads, mlpRatio: decFc1 ? decFc1[0]! / decDim : 4, posEmbed: decPos, outChans };
    } else {
      report.warnings.push('the MAE decoder has an unusual shape and is not kept');
    }
  }

  const vit = vitConfig({ embedDim, depth, numHeads }, { layout, patchSize, imgSize: grid * patchSize, mlpRatio, posEmbed, pooling, maskToken });
  const config: ModelConfig = { vit, ...(decoder ? { decoder } : {}), ...(layout === 'beit' ? { relPosBias: relPosBias ?? 'shared' } : {}) };
  return { config, grid };
}

async function valueFresh(src: Map<string, LazyTensor>, name: string): Promise<Float32Array> {
  return src.get(name)!.read();
}

/** Position tables resized to the target grid, a one-channel patch embedding spread over 3 channels. */
async function adapt(
  name: string,
  shape: number[],
  data: Float32Array,
  config: ModelConfig,
  sourceGrid: number,
  targetGrid: number,
  report: ImportReport,
): Promise<{ shape: number[]; data: Float32Array }> {
  const resizeText = `${sourceGrid}x${sourceGrid} -> ${targetGrid}x${targetGrid} grid`;
  if ((name === 'pos_embed' || name === 'decoder_pos_embed') && sourceGrid !== targetGrid && shape[1] === sourceGrid * sourceGrid + 1) {
    const dim = shape[2]!;
    const kind = name === 'pos_embed' ? config.vit.posEmbed : (config.decoder?.posEmbed ?? 'sincos');
    if (kind === 'sincos') {
      report.converted.push(`${name}: ${resizeText}, sin-cos table regenerated`);
      return { shape: [1, targetGrid * targetGrid + 1, dim], data: sincosPosEmbed2d(dim, targetGrid, true) };
    }
    report.converted.push(`${name}: ${resizeText}, bicubic (timm resample_abs_pos_embed)`);
    return { shape: [1, targetGrid * targetGrid + 1, dim], data: resampleAbsPosEmbed(data, dim, [sourceGrid, sourceGrid], [targetGrid, targetGrid], 1) };
  }
  if ((name === SHARED_TABLE || BLOCK_TABLE.test(name)) && sourceGrid !== targetGrid) {
    const heads = shape[1]!;
    const rows = (2 * targetGrid - 1) ** 2 + 3;
    if (shape[0] !== (2 * sourceGrid - 1) ** 2 + 3) return { shape, data };
    if (name === SHARED_TABLE || name === 'blocks.0.attn.relative_position_bias_table') {
      report.converted.push(`relative position table${name === SHARED_TABLE ? '' : 's'}: ${resizeText}, bicubic on the (2g-1)^2 part, 3 CLS rows kept`);
    }
    return { shape: [rows, heads], data: resizeRelPosBiasTable(data, heads, sourceGrid, targetGrid, 3) };
  }
  if (name === PATCH_WEIGHT && shape[1] === 1) {
    // A grey-image model: the workbench ViT folds 3 channels by summing for grey input, so w/3 per channel
    // gives the same response to a grey image.
    const [d, , p, q] = shape as [number, number, number, number];
    const spread = new Float32Array(d * 3 * p * q);
    for (let o = 0; o < d; o++) for (let c = 0; c < 3; c++) for (let k = 0; k < p * q; k++) spread[(o * 3 + c) * p * q + k] = data[o * p * q + k]! / 3;
    report.converted.push('patch_embed.proj.weight: 1 input channel spread over 3 (w/3 each, same response to grey images)');
    return { shape: [d, 3, p, q], data: spread };
  }
  return { shape, data };
}
