/**
 * WM's update of one layer's B (eq. 21): B ← (1 − λ_WM)·B + η_B·cov, with the
 * covariance cov = G / P: G = Σ x·yᵀ over the mirror batch (the filter-gradient op) and
 * P the (example, position) pairs each weight connects (per tap for a conv, zero
 * padding excluded: `pairs` [kh, kw, 1, 1]; a number for a dense layer). wasm registers
 * a one-pass kernel rounded as these ops.
 */
import * as tf from '@tensorflow/tfjs-core';
import { opImplFor } from './registry.js';

declare module './registry.js' {
  interface OpImpls {
    mirrorUpdate: MirrorUpdateFn;
  }
}

export type MirrorUpdateFn = (
  B: tf.Tensor,
  G: tf.Tensor,
  pairs: tf.Tensor | number,
  decay: number,
  eta: number,
) => tf.Tensor;

export const stockMirrorUpdate: MirrorUpdateFn = (B, G, pairs, decay, eta) =>
  tf.tidy(() => tf.add(tf.mul(B, decay), tf.mul(tf.div(G, pairs), eta)));

export const mirrorUpdate: MirrorUpdateFn = (...args) =>
  (opImplFor('mirrorUpdate') ?? stockMirrorUpdate)(...args);
