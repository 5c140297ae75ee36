/**
 * Multi-head softmax attention from a fused qkv projection, as timm's Attention after `qkv(x)`:
 * out = softmax(q·kᵀ·dh^-0.5 + bias)·v, heads concatenated. One custom-gradient op: the head split/merge
 * transposes, two batched products and the softmax, with a backward of four products and the softmax
 * Jacobian written out, instead of a dozen automatic tape nodes.
 */
import * as tf from '@tensorflow/tfjs-core';
import { bmm } from './matmul';

export interface AttentionShape {
  batch: number;
  tokens: number;
  heads: number;
}

type Args = (tf.Tensor | tf.GradSaveFunc)[];

function splitHeads(
  qkv: tf.Tensor,
  { batch, tokens, heads }: AttentionShape,
): [tf.Tensor3D, tf.Tensor3D, tf.Tensor3D] {
  const dim = qkv.shape[1]! / 3;
  const dh = dim / heads;
  // Three 4-D transposes: WASM's 5-D transpose (one [B,T,3,H,dh] permutation) was measured 100x slower.
  const parts = tf.split(qkv, 3, 1);
  const [q, k, v] = parts.map((x) =>
    tf.reshape(tf.transpose(tf.reshape(x, [batch, tokens, heads, dh]), [0, 2, 1, 3]), [
      batch * heads,
      tokens,
      dh,
    ]),
  );
  return [q, k, v] as [tf.Tensor3D, tf.Tensor3D, tf.Tensor3D];
}

function mergeHeads(x: tf.Tensor, { batch, tokens, heads }: AttentionShape): tf.Tensor2D {
  const dh = x.shape[2]!;
  return tf.reshape(tf.transpose(tf.reshape(x, [batch, heads, tokens, dh]), [0, 2, 1, 3]), [
    batch * tokens,
    heads * dh,
  ]);
}

function forward(
  qkv: tf.Tensor,
  bias: tf.Tensor | null,
  shape: AttentionShape,
  save: tf.GradSaveFunc,
): tf.Tensor2D {
  const { batch, tokens, heads } = shape;
  const [q, k, v] = splitHeads(qkv, shape);
  const qs = tf.mul(q, 1 / Math.sqrt(q.shape[2])) as tf.Tensor3D; // scale the [T, dh] side, not the [T, T] scores
  let scores: tf.Tensor = bmm(qs, k, false, true);
  if (bias)
    scores = tf.reshape(tf.add(tf.reshape(scores, [batch, heads, tokens, tokens]), bias), [
      batch * heads,
      tokens,
      tokens,
    ]);
  const p = tf.softmax(scores) as tf.Tensor3D;
  save([qs, k, v, p]);
  return mergeHeads(bmm(p, v), shape);
}

/** Returns [dqkv, dscores] where dscores is the gradient of the pre-softmax scores [B·H, T, T]. */
function backward(dOut: tf.Tensor, saved: tf.Tensor[], shape: AttentionShape): [tf.Tensor2D, tf.Tensor3D] {
  const { batch, tokens, heads } = shape;
  const [qs, k, v, p] = saved as [tf.Tensor3D, tf.Tensor3D, tf.Tensor3D, tf.Tensor3D];
  const dh = qs.shape[2];
  const scale = 1 / Math.sqrt(dh);
  const dO: tf.Tensor3D = tf.reshape(
    tf.transpose(tf.reshape(dOut, [batch, tokens, heads, dh]), [0, 2, 1, 3]),
    [batch * heads, tokens, dh],
  );
  const dv = bmm(p, dO, true, false);
  const dp = bmm(dO, v, false, true);
  const dScores = tf.mul(p, tf.sub(dp, tf.sum(tf.mul(dp, p), -1, true))) as tf.Tensor3D;
  const dq = tf.mul(bmm(dScores, k), scale) as tf.Tensor3D;
  const dk = bmm(dScores, qs, true, false);
  const dqkv = tf.concat(
    [dq, dk, dv].map((g) => mergeHeads(g, shape)),
    1,
  ) as tf.Tensor2D;
  return [dqkv, dScores];
}

/**
 * qkv [B·T, 3D] (rows = (batch, token), columns = (q|k|v, head, channel) as timm's qkv Linear produces),
 * bias optional, broadcast over the batch when [H, T, T] or per sample when [B, H, T, T].
 * Returns the merged heads [B·T, D], ready for the output projection.
 */
export function attention(
  qkv: tf.Tensor2D,
  shape: AttentionShape,
  bias?: tf.Tensor3D | tf.Tensor4D,
): tf.Tensor2D {
  const { batch, tokens, heads } = shape;
  if (qkv.shape[0] !== batch * tokens || qkv.shape[1] % (3 * heads) !== 0) {
    throw new Error(
      `attention: qkv shape [${qkv.shape}] does not fit batch ${batch}, tokens ${tokens}, heads ${heads}`,
    );
  }
  if (!bias) {
    const op = tf.customGrad((...args: Args) => {
      const [x, save] = args as [tf.Tensor, tf.GradSaveFunc];
      return {
        value: forward(x, null, shape, save),
        gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => [
          backward(dy as tf.Tensor, saved, shape)[0],
        ],
      };
    });
    return op(qkv) as tf.Tensor2D;
  }
  const perSample = bias.rank === 4;
  const op = tf.customGrad((...args: Args) => {
    const [x, b, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    return {
      value: forward(x, b, shape, save),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [dqkv, dScores] = backward(dy as tf.Tensor, saved, shape);
        const dBias = tf.reshape(dScores, [batch, heads, tokens, tokens]);
        return [dqkv, perSample ? dBias : tf.sum(dBias, 0)];
      },
    };
  });
  return op(qkv, bias) as tf.Tensor2D;
}
