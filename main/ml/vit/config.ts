/** Vision Transformer configurations (timm / MAE and BEiT / USFM parameter layouts). */

export type VitSize = 'tiny' | 'small' | 'base';
/**
 * 'timm': timm/MAE naming (absolute `pos_embed`, `attn.qkv.bias`, final `norm`).
 * 'beit': BEiT/USFM naming (shared `rel_pos_bias.relative_position_bias_table`, `attn.q_bias`/`v_bias`,
 * layer scale `gamma_1`/`gamma_2`, mean pooling + `fc_norm`).
 */
export type VitLayout = 'timm' | 'beit';

export interface VitConfig {
  layout: VitLayout;
  embedDim: number;
  depth: number;
  numHeads: number;
  /** Always 16 for the published checkpoints. */
  patchSize: number;
  /** 224 or 112 (the fixtures); any multiple of patchSize works. */
  imgSize: number;
  mlpRatio: number;
  /** Stochastic depth: the rate of the last block; block i gets rate·i/(depth-1) (timm's linspace). */
  dropPathRate: number;
  /** LayerNorm epsilon (timm and BEiT ViTs: 1e-6). */
  lnEps: number;
  /** timm layout: 'sincos' = MAE's fixed 2-D sin-cos table (not trained), 'learned' = trained, init N(0, 0.02). */
  posEmbed: 'sincos' | 'learned';
  /** beit layout: initial value of gamma_1 / gamma_2 (BEiT / USFM: 0.1). */
  layerScaleInit: number;
  /** 'cls': final `norm` on all tokens, pool = CLS token; 'mean': no final norm, pool = fc_norm(mean of patch tokens). */
  pooling: 'cls' | 'mean';
  /** Adds `mask_token` [1, 1, D] for SimMIM-style token filling (USFM / USFM+ recipes). */
  maskToken: boolean;
}

export const VIT_SIZES: Record<VitSize, { embedDim: number; depth: number; numHeads: number }> = {
  tiny: { embedDim: 192, depth: 12, numHeads: 3 },
  small: { embedDim: 384, depth: 12, numHeads: 6 },
  base: { embedDim: 768, depth: 12, numHeads: 12 },
};

/** A full config from a size preset (or explicit dims) and overrides; defaults follow the layout. */
export function vitConfig(size: VitSize | { embedDim: number; depth: number; numHeads: number }, overrides: Partial<VitConfig> = {}): VitConfig {
  const dims = typeof size === 'string' ? VIT_SIZES[size] : size;
  const layout = overrides.layout ?? 'timm';
  const config: VitConfig = {
    layout,
    ...dims,
    patchSize: 16,
    imgSize: 224,
    mlpRatio: 4,
    dropPathRate: 0,
    lnEps: 1e-6,
    posEmbed: layout === 'timm' ? 'sincos' : 'learned',
    layerScaleInit: 0.1,
    pooling: layout === 'timm' ? 'cls' : 'mean',
    maskToken: false,
    ...overrides,
  };
  validateVitConfig(config);
  return config;
}

export function validateVitConfig(c: VitConfig): void {
  const problems: string[] = [];
  if (c.embedDim % c.numHeads !== 0) problems.push(`embedDim ${c.embedDim} is not divisible by numHeads ${c.numHeads}`);
  if (c.imgSize % c.patchSize !== 0) problems.push(`imgSize ${c.imgSize} is not a multiple of patchSize ${c.patchSize}`);
  if (c.layout === 'timm' && c.posEmbed === 'sincos' && c.embedDim % 4 !== 0) problems.push('sin-cos position embedding needs embedDim divisible by 4');
  if (!(c.dropPathRate >= 0 && c.dropPathRate < 1)) problems.push('dropPathRate must be in [0, 1)');
  if (c.depth < 1) problems.push('depth must be >= 1');
  if (problems.length) throw new Error(`invalid ViT config: ${problems.join('; ')}`);
}

export function gridSize(c: VitConfig): number {
  return c.imgSize / c.patchSize;
}

export function numPatches(c: VitConfig): number {
  return gridSize(c) ** 2;
}

/** Rows of the BEiT relative-position-bias table for a g x g grid: (2g-1)^2 + 3 (CLS-to-token, token-to-CLS, CLS-to-CLS). */
export function relPosTableRows(c: VitConfig): number {
  return (2 * gridSize(c) - 1) ** 2 + 3;
}
