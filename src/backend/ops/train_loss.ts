/**
 * The training step's loss head: softmax cross-entropy's δ_L = (softmax − onehot)/N for
 * the backward pass, with the running train metrics updated on the device — nothing is
 * read back:
 *   sums ← sums + [mean loss·N, top-1 hits, top-5 hits, N]
 *   badStep ← step where badStep < 0 and the loss is not finite (the first bad step)
 * Top-k follows tfjs's topk order (value descending, lower class index first on ties).
 * webgpu registers a one-dispatch kernel (~40 tf ops and 4 scalar uploads otherwise).
 */
import * as tf from '@tensorflow/tfjs-core';
import { opImplFor } from './registry.js';
import { softmaxCrossEntropy } from './softmax_cross_entropy.js';

declare module './registry.js' {
  interface OpImpls {
    trainLoss: TrainLossFn;
  }
}

export interface LossAccumulators {
  /** [Σ loss·n, top-1 hits, top-5 hits, n] (float32 [4]). */
  sums: tf.Variable;
  /** 1-based step of the first non-finite loss, −1 while all are finite (float32 scalar). */
  badStep: tf.Variable;
  /** This step's 1-based number. */
  step: number;
}

export type TrainLossFn = (logits: tf.Tensor2D, labels: tf.Tensor1D, acc: LossAccumulators) => tf.Tensor2D;

/** sums ← sums + [loss·n, c1, c5, n] (also the evaluation's accumulator). */
export function addToMetricSums(
  sums: tf.Variable,
  loss: tf.Scalar,
  c1: tf.Scalar,
  c5: tf.Scalar,
  n: number,
): void {
  tf.tidy(() => {
    sums.assign(tf.add(sums, tf.stack([tf.mul(loss, n), c1, c5, tf.scalar(n)])));
  });
}

export const stockTrainLoss: TrainLossFn = (logits, labels, acc) => {
  const out = softmaxCrossEntropy(logits, labels);
  addToMetricSums(acc.sums, out.loss, out.correct1, out.correct5, logits.shape[0]);
  tf.tidy(() => {
    const firstBad = tf.logicalAnd(tf.less(acc.badStep, 0), tf.logicalNot(tf.isFinite(out.loss)));
    acc.badStep.assign(tf.where(firstBad, tf.scalar(acc.step), acc.badStep as tf.Scalar));
  });
  tf.dispose([out.loss, out.correct1, out.correct5]);
  return out.dLogits;
};

export const trainLoss: TrainLossFn = (...args) => (opImplFor('trainLoss') ?? stockTrainLoss)(...args);
