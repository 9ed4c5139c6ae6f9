/**
 * Training-mode BatchNorm over N·H·W per channel, forward and hand-written backward
 * (tfjs's own gradient expands per-channel vectors to full tensors several times):
 *   forward:  μ, σ² = moments(x);  y = γ (x − μ)/σ + β   (σ = sqrt(σ² + ε))
 *   backward: dβ = Σ dy,  dγ = Σ dy·x̂ = (Σ dy·x − μ·dβ)/σ,
 *             dx = (γ/σ)·(dy − dβ/M − x̂·dγ/M)
 * x̂ is never stored: the backward takes x (kept alive by the previous layer anyway).
 * With `running`, the forward also updates the running statistics in place:
 *   running μ ← m·running μ + (1 − m)·μ,  running σ² ← m·running σ² + (1 − m)·σ²·M/(M − 1)
 * (the unbiased variance, as PyTorch keeps it). Backends may register fused kernels for
 * both (wasm and webgpu do; webgpu also folds the running statistics in).
 */
import * as tf from '@tensorflow/tfjs-core';
import { opImplFor } from './registry.js';

declare module './registry.js' {
  interface OpImpls {
    batchNormTrain: BatchNormTrainFn;
    batchNormTrainGrad: BatchNormTrainGradFn;
  }
}

/** A BatchNorm layer's running statistics and their momentum m (the weight of the old value). */
export interface RunningStats {
  mean: tf.Variable;
  variance: tf.Variable;
  momentum: number;
}

export type BatchNormTrainFn = (
  x: tf.Tensor,
  gamma: tf.Tensor,
  beta: tf.Tensor,
  epsilon: number,
  running?: RunningStats,
) => { y: tf.Tensor; mean: tf.Tensor1D; variance: tf.Tensor1D };

export type BatchNormTrainGradFn = (
  dy: tf.Tensor,
  x: tf.Tensor,
  mean: tf.Tensor,
  variance: tf.Tensor,
  gamma: tf.Tensor,
  epsilon: number,
) => { dx: tf.Tensor; dGamma: tf.Tensor1D; dBeta: tf.Tensor1D };

const channelAxes = (x: tf.Tensor) => x.shape.map((_, i) => i).slice(0, -1);

/** Rows M = N·H·W per channel of a channels-last tensor. */
export const batchNormRows = (x: tf.TensorInfo): number =>
  tf.util.sizeFromShape(x.shape) / (x.shape[x.shape.length - 1] as number);

/** The running-statistics update with separate ops (for kernels that do not fold it in). */
export function updateRunningStats(
  x: tf.Tensor,
  mean: tf.Tensor,
  variance: tf.Tensor,
  running?: RunningStats,
): void {
  if (!running) return;
  const m = batchNormRows(x);
  const mom = running.momentum;
  tf.tidy(() => {
    running.mean.assign(tf.add(tf.mul(running.mean, mom), tf.mul(mean, 1 - mom)));
    const unbiased = tf.mul(variance, m / Math.max(1, m - 1));
    running.variance.assign(tf.add(tf.mul(running.variance, mom), tf.mul(unbiased, 1 - mom)));
  });
}

/** Moments, then tfjs's fused batch-norm kernel. */
export const stockBatchNormTrain: BatchNormTrainFn = (x, gamma, beta, epsilon, running) => {
  const { mean, variance } = tf.moments(x, channelAxes(x));
  const y = tf.batchNorm(x, mean, variance, beta, gamma, epsilon);
  updateRunningStats(x, mean, variance, running);
  return { y, mean: mean as tf.Tensor1D, variance: variance as tf.Tensor1D };
};

export const stockBatchNormTrainGrad: BatchNormTrainGradFn = (dy, x, mean, variance, gamma, epsilon) => {
  const axes = channelAxes(x);
  const m = x.size / (x.shape.at(-1) as number);
  const invStd = tf.rsqrt(tf.add(variance, epsilon));
  const dBeta = tf.sum(dy, axes) as tf.Tensor1D;
  const dGamma = tf.mul(tf.sub(tf.sum(tf.mul(dy, x), axes), tf.mul(mean, dBeta)), invStd) as tf.Tensor1D;
  // dx = k·dy − (x − μ)·invStd·b − a = k·dy − x·c + (μ·c − a),  k = γ·invStd, c = invStd·b
  const k = tf.mul(gamma, invStd);
  const a = tf.mul(k, tf.div(dBeta, m));
  const c = tf.mul(invStd, tf.mul(k, tf.div(dGamma, m)));
  const dx = tf.add(tf.sub(tf.mul(dy, k), tf.mul(x, c)), tf.sub(tf.mul(mean, c), a));
  return { dx, dGamma, dBeta };
};

export const batchNormTrain: BatchNormTrainFn = (...args) =>
  (opImplFor('batchNormTrain') ?? stockBatchNormTrain)(...args);

export const batchNormTrainGrad: BatchNormTrainGradFn = (...args) =>
  (opImplFor('batchNormTrainGrad') ?? stockBatchNormTrainGrad)(...args);
