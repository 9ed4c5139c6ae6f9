/**
 * sign(W) ⊙ M, sign-symmetry's feedback weights (src/rules/ss.ts); M a scalar or a
 * tensor of W's shape; sign(0) = 0. wasm registers a one-pass kernel.
 */
import * as tf from '@tensorflow/tfjs-core';
import { opImplFor } from './registry.js';

declare module './registry.js' {
  interface OpImpls {
    signTimes: SignTimesFn;
  }
}

export type SignTimesFn = (w: tf.Tensor, magnitude: tf.Tensor | number) => tf.Tensor;

export const stockSignTimes: SignTimesFn = (w, magnitude) => tf.tidy(() => tf.mul(tf.sign(w), magnitude));

export const signTimes: SignTimesFn = (w, magnitude) =>
  (opImplFor('signTimes') ?? stockSignTimes)(w, magnitude);
