import type { ParamMap } from '../vit';

export type { ParamMap };

/**
 * No weight decay on biases, norms, tokens, position tables and layer scales, as MAE / BEiT / SimMIM
 * exclude them (1-D tensors and the named skip list).
 */
export function decays(name: string, shape: readonly number[]): boolean {
  if (shape.length <= 1) return false;
  if (name.endsWith('.bias') || name.endsWith('_bias')) return false;
  if (/(^|\.)(cls_token|mask_token|dist_token|pos_embed|decoder_pos_embed|gamma_1|gamma_2)$/.test(name)) return false;
  if (name.includes('relative_position_bias_table')) return false;
  if (/(^|\.)(norm\d*|fc_norm|decoder_norm)\./.test(name)) return false;
  return true;
}
