/**
 * BN(ReLU(z)) in training mode, the `after_relu` unit (App. D.3: conv → ReLU → BN),
 * forward and backward as one op pair so a backend can fuse the ReLU into BatchNorm's
 * passes (wasm and webgpu do: no ReLU pass, no ReLU(z) tensor kept). Generically it is
 * ReLU, batchNormTrain, and on the way back batchNormTrainGrad then reluGrad; `saved`
 * is what the backward needs (ReLU(z) here, z where fused) — pass it back unchanged.
 */
import * as tf from '@tensorflow/tfjs-core';
import { batchNormTrain, batchNormTrainGrad, type RunningStats } from './batch_norm_train.js';
import { opImplFor } from './registry.js';
import { reluGrad } from './relu_grad.js';

declare module './registry.js' {
  interface OpImpls {
    reluBatchNormTrain: ReluBatchNormTrainFn;
    reluBatchNormTrainGrad: ReluBatchNormTrainGradFn;
  }
}

export type ReluBatchNormTrainFn = (
  z: tf.Tensor,
  gamma: tf.Tensor,
  beta: tf.Tensor,
  epsilon: number,
  running?: RunningStats,
) => { y: tf.Tensor; mean: tf.Tensor1D; variance: tf.Tensor1D; saved: tf.Tensor };

export type ReluBatchNormTrainGradFn = (
  dy: tf.Tensor,
  saved: tf.Tensor,
  mean: tf.Tensor,
  variance: tf.Tensor,
  gamma: tf.Tensor,
  epsilon: number,
) => { dx: tf.Tensor; dGamma: tf.Tensor1D; dBeta: tf.Tensor1D };

export const stockReluBatchNormTrain: ReluBatchNormTrainFn = (z, gamma, beta, epsilon, running) => {
  const a = tf.relu(z);
  return { ...batchNormTrain(a, gamma, beta, epsilon, running), saved: a };
};

export const stockReluBatchNormTrainGrad: ReluBatchNormTrainGradFn = (
  dy,
  a,
  mean,
  variance,
  gamma,
  epsilon,
) => {
  const g = batchNormTrainGrad(dy, a, mean, variance, gamma, epsilon);
  const dx = reluGrad(g.dx, a);
  g.dx.dispose();
  return { dx, dGamma: g.dGamma, dBeta: g.dBeta };
};

/** The forward and backward must come from the same backend's pair (`saved` differs). */
export const reluBatchNormTrain: ReluBatchNormTrainFn = (...args) =>
  (opImplFor('reluBatchNormTrain') ?? stockReluBatchNormTrain)(...args);

export const reluBatchNormTrainGrad: ReluBatchNormTrainGradFn = (...args) =>
  (opImplFor('reluBatchNormTrainGrad') ?? stockReluBatchNormTrainGrad)(...args);
