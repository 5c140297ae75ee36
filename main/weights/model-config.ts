/**
 * What a stored model is: the ViT encoder's configuration (main/ml/vit's VitConfig) plus, for MAE
 * checkpoints kept for continued pretraining, the MAE decoder. Stored as JSON in the catalog (`models.config`),
 * next to the weights (`config.json`) and in the safetensors metadata (`config`).
 */
import { ModelConfigSchema } from '../api/contract/weights';
import { gridSize, numPatches, relPosTableRows, validateVitConfig, type VitConfig } from '../ml/vit/config';

export interface MaeDecoderConfig {
  embedDim: number;
  depth: number;
  numHeads: number;
  mlpRatio: number;
  /** MAE: fixed 2-D sin-cos `decoder_pos_embed`. */
  posEmbed: 'sincos' | 'learned';
  /** Channels of the reconstructed patches: `decoder_pred` outputs patchSize² · outChans values. */
  outChans: number;
}

export interface ModelConfig {
  vit: VitConfig;
  /** MAE decoder (`mask_token`, `decoder_*`), kept for continued pretraining. */
  decoder?: MaeDecoderConfig;
  /**
   * beit layout: 'shared' = one `rel_pos_bias.relative_position_bias_table` (the workbench ViT, USFM
   * pretraining); 'per-block' = `blocks.<i>.attn.relative_position_bias_table`, kept only when a checkpoint's
   * per-block tables differ from each other. Absent = shared.
   */
  relPosBias?: 'shared' | 'per-block';
}

export { ModelConfigSchema };

export function parseModelConfig(value: unknown): ModelConfig {
  const parsed = ModelConfigSchema.safeParse(value);
  if (!parsed.success) throw new Error(`invalid model configuration: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  validateVitConfig(parsed.data.vit);
  if (parsed.data.decoder && parsed.data.vit.maskToken) throw new Error('invalid model configuration: an encoder mask token and an MAE decoder both use the name mask_token');
  return parsed.data;
}

/** Which part of the model a tensor belongs to: refusing a file only depends on the backbone. */
export type TensorGroup = 'backbone' | 'decoder';

export interface ExpectedTensor {
  shape: number[];
  group: TensorGroup;
}

function block(out: Map<string, ExpectedTensor>, prefix: string, dim: number, mlpRatio: number, layout: 'timm' | 'beit', group: TensorGroup, relTable?: number[]): void {
  const hidden = Math.round(dim * mlpRatio);
  const add = (name: string, shape: number[]): void => void out.set(prefix + name, { shape, group });
  if (layout === 'beit') {
    add('gamma_1', [dim]);
    add('gamma_2', [dim]);
  }
  add('norm1.weight', [dim]);
  add('norm1.bias', [dim]);
  if (layout === 'beit') {
    add('attn.q_bias', [dim]);
    add('attn.v_bias', [dim]);
  }
  add('attn.qkv.weight', [3 * dim, dim]);
  if (layout === 'timm') add('attn.qkv.bias', [3 * dim]);
  if (relTable) add('attn.relative_position_bias_table', relTable);
  add('attn.proj.weight', [dim, dim]);
  add('attn.proj.bias', [dim]);
  add('norm2.weight', [dim]);
  add('norm2.bias', [dim]);
  add('mlp.fc1.weight', [hidden, dim]);
  add('mlp.fc1.bias', [hidden]);
  add('mlp.fc2.weight', [dim, hidden]);
  add('mlp.fc2.bias', [dim]);
}

/**
 * Every tensor the model has, in state-dict order, with PyTorch names and shapes: the names the
 * workbench ViT (main/ml/vit createVit) and MAE's decoder use.
 */
export function expectedTensors(config: ModelConfig): Map<string, ExpectedTensor> {
  const { vit, decoder } = config;
  const d = vit.embedDim;
  const n = numPatches(vit);
  const out = new Map<string, ExpectedTensor>();
  const add = (name: string, shape: number[], group: TensorGroup = 'backbone'): void => void out.set(name, { shape, group });
  add('cls_token', [1, 1, d]);
  if (vit.maskToken) add('mask_token', [1, 1, d]);
  if (vit.layout === 'timm') add('pos_embed', [1, n + 1, d]);
  add('patch_embed.proj.weight', [d, 3, vit.patchSize, vit.patchSize]);
  add('patch_embed.proj.bias', [d]);
  const table = [relPosTableRows(vit), vit.numHeads];
  const perBlock = vit.layout === 'beit' && config.relPosBias === 'per-block';
  if (vit.layout === 'beit' && !perBlock) add('rel_pos_bias.relative_position_bias_table', table);
  for (let i = 0; i < vit.depth; i++) block(out, `blocks.${i}.`, d, vit.mlpRatio, vit.layout, 'backbone', perBlock ? table : undefined);
  const norm = vit.pooling === 'cls' ? 'norm' : 'fc_norm';
  add(`${norm}.weight`, [d]);
  add(`${norm}.bias`, [d]);
  if (decoder) {
    const dd = decoder.embedDim;
    add('mask_token', [1, 1, dd], 'decoder');
    add('decoder_embed.weight', [dd, d], 'decoder');
    add('decoder_embed.bias', [dd], 'decoder');
    add('decoder_pos_embed', [1, n + 1, dd], 'decoder');
    for (let i = 0; i < decoder.depth; i++) block(out, `decoder_blocks.${i}.`, dd, decoder.mlpRatio, 'timm', 'decoder');
    add('decoder_norm.weight', [dd], 'decoder');
    add('decoder_norm.bias', [dd], 'decoder');
    const outDim = vit.patchSize * vit.patchSize * decoder.outChans;
    add('decoder_pred.weight', [outDim, dd], 'decoder');
    add('decoder_pred.bias', [outDim], 'decoder');
  }
  return out;
}

/** A one-line description: "ViT 768d x12 blocks, 12 heads, 16 px patches, 224 px (beit)". */
export function describeConfig(config: ModelConfig): string {
  const v = config.vit;
  const dec = config.decoder ? `, MAE decoder ${config.decoder.embedDim}d x${config.decoder.depth}` : '';
  return `ViT ${v.embedDim}d x${v.depth} blocks, ${v.numHeads} heads, ${v.patchSize} px patches, ${v.imgSize} px (${gridSize(v)}x${gridSize(v)} grid), ${v.layout} layout${dec}`;
}
