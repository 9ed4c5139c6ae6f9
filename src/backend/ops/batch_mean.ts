/**
 * Mean over the batch (leading) axis, kept as a [1, …] tensor: the centring of WM's
 * mirror signals (Alg. 1). Stock: one [1, n]·[n, F] matrix product (wasm's own Mean over
 * a leading axis transposes the whole tensor first); wasm registers a one-pass kernel.
 */
import * as tf from '@tensorflow/tfjs-core';
import { opImplFor } from './registry.js';

declare module './registry.js' {
  interface OpImpls {
    batchMean: BatchMeanFn;
  }
}

export type BatchMeanFn = (t: tf.Tensor) => tf.Tensor;

export const stockBatchMean: BatchMeanFn = (t) =>
  tf.tidy(() => {
    const n = t.shape[0];
    const rows = tf.reshape(t, [n, -1]) as tf.Tensor2D;
    return tf.reshape(tf.matMul(tf.fill([1, n], 1 / n) as tf.Tensor2D, rows), [1, ...t.shape.slice(1)]);
  });

export const batchMean: BatchMeanFn = (t) => (opImplFor('batchMean') ?? stockBatchMean)(t);
