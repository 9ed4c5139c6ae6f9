/**
 * WM's centred mirror output (Alg. 1, lines 13-14): y − ȳ with y = ReLU(z) and ȳ its
 * mean over the mirror batch (axis 0). wasm registers a two-pass kernel.
 */
import * as tf from '@tensorflow/tfjs-core';
import { batchMean } from './batch_mean.js';
import { opImplFor } from './registry.js';

declare module './registry.js' {
  interface OpImpls {
    centredRelu: CentredReluFn;
  }
}

export type CentredReluFn = (z: tf.Tensor) => tf.Tensor;

export const stockCentredRelu: CentredReluFn = (z) =>
  tf.tidy(() => {
    const y = tf.relu(z);
    return tf.sub(y, batchMean(y));
  });

export const centredRelu: CentredReluFn = (z) => (opImplFor('centredRelu') ?? stockCentredRelu)(z);
