/**
 * A running average, in place: target ← m·target + (1 − m)·(s·value). BatchNorm's
 * running mean and variance (s = M/(M−1) turns the batch's biased variance unbiased,
 * as PyTorch does). webgpu registers a one-dispatch kernel; elsewhere it is tf ops.
 */
import * as tf from '@tensorflow/tfjs-core';
import { opImplFor } from './registry.js';

export type EmaUpdateFn = (target: tf.Variable, value: tf.Tensor, momentum: number, scale: number) => void;

export const stockEmaUpdate: EmaUpdateFn = (target, value, momentum, scale) => {
  tf.tidy(() => {
    const scaled = scale === 1 ? value : tf.mul(value, scale);
    target.assign(tf.add(tf.mul(target, momentum), tf.mul(scaled, 1 - momentum)));
  });
};

export const emaUpdate: EmaUpdateFn = (target, value, momentum, scale = 1) =>
  (opImplFor<EmaUpdateFn>('emaUpdate') ?? stockEmaUpdate)(target, value, momentum, scale);
