/**
 * ReLU's backward, dy ⊙ [y > 0] with y = relu(x) (the φ'(y) factor of eq. 3). wasm
 * registers a one-pass kernel.
 */
import * as tf from '@tensorflow/tfjs-core';
import { opImplFor } from './registry.js';

declare module './registry.js' {
  interface OpImpls {
    reluGrad: ReluGradFn;
  }
}

export type ReluGradFn = (dy: tf.Tensor, y: tf.Tensor) => tf.Tensor;

export const stockReluGrad: ReluGradFn = (dy, y) => tf.tidy(() => tf.mul(dy, tf.step(y)));

export const reluGrad: ReluGradFn = (dy, y) => (opImplFor('reluGrad') ?? stockReluGrad)(dy, y);
