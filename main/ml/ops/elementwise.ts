/** Elementwise ops whose automatic gradient would be infinite or NaN where the value is 0. */
import * as tf from '@tensorflow/tfjs-core';

const TINY = 1e-20;

/** sqrt(x) for x >= 0 whose gradient at 0 is 0.5/sqrt(1e-20) instead of Infinity (NaN after · 0). */
export const safeSqrt = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [x, save] = args as [tf.Tensor, tf.GradSaveFunc];
  const y = tf.sqrt(x);
  save([y]);
  return {
    value: y,
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => [
      tf.div(tf.mul(dy as tf.Tensor, 0.5), tf.maximum(saved[0]!, TINY)),
    ],
  };
}) as <T extends tf.Tensor>(x: T) => T;

/** |re + i·im| with gradient (re, im)/|.| (0 where the magnitude is 0). */
export const magnitude = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [re, im, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
  const mag = tf.sqrt(tf.add(tf.square(re), tf.square(im)));
  save([re, im, mag]);
  return {
    value: mag,
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
      const [sre, sim, smag] = saved as [tf.Tensor, tf.Tensor, tf.Tensor];
      const scale = tf.div(dy as tf.Tensor, tf.maximum(smag, TINY));
      return [tf.mul(scale, sre), tf.mul(scale, sim)];
    },
  };
}) as <T extends tf.Tensor>(re: T, im: T) => T;
