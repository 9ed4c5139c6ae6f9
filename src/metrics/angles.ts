/**
 * Alignment of the feedback path with backprop (paper Fig. 4):
 * - matrix angle: between the flattened kernel the rule sends δ through and W (4a);
 * - δ angle: on one batch, the rule's backward and a true backprop backward are run
 *   through the whole network from the same δ_L, and the δ's arriving at each
 *   layer's output are compared (4b).
 */
import * as tf from '@tensorflow/tfjs-core';

/** Angle in degrees between two tensors seen as flat vectors (a scalar tensor). */
export function angleBetween(a: tf.Tensor, b: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const fa = tf.reshape(a, [-1]);
    const fb = tf.reshape(b, [-1]);
    const cos = tf.div(tf.sum(tf.mul(fa, fb)), tf.add(tf.mul(tf.norm(fa), tf.norm(fb)), 1e-30));
    // Clipped against rounding past ±1; NaN (a non-finite B or W) stays NaN: wasm's clip
    // would turn it into −1, a plausible-looking 180°.
    const clipped = tf.where(tf.isNaN(cos), cos, tf.clipByValue(cos, -1, 1));
    return tf.mul(tf.acos(clipped), 180 / Math.PI) as tf.Scalar;
  });
}
