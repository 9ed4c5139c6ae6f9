/** Softmax cross-entropy with its gradient, and top-k hit counts; all stays on the device. */
import * as tf from '@tensorflow/tfjs-core';

export interface LossOutput {
  /** Mean loss over the batch (scalar). */
  loss: tf.Scalar;
  /** dL/dlogits = (softmax − onehot)/N, the δ_L that starts the backward pass. */
  dLogits: tf.Tensor2D;
  /** Number of samples whose label is the top-1 / among the top-5 logits (scalars). */
  correct1: tf.Scalar;
  correct5: tf.Scalar;
}

export function softmaxCrossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D, withGrad = true): LossOutput {
  const [n, c] = logits.shape;
  const logp = tf.logSoftmax(logits);
  const onehot = tf.oneHot(labels, c);
  const loss = tf.div(tf.neg(tf.sum(tf.mul(logp, onehot))), n) as tf.Scalar;
  const dLogits = withGrad
    ? (tf.div(tf.sub(tf.exp(logp), onehot), n) as tf.Tensor2D)
    : (tf.zeros([0, c]) as tf.Tensor2D);
  const { correct1, correct5 } = topKHits(logits, labels);
  return { loss, dLogits, correct1, correct5 };
}

export function topKHits(
  logits: tf.Tensor2D,
  labels: tf.Tensor1D,
): { correct1: tf.Scalar; correct5: tf.Scalar } {
  const k = Math.min(5, logits.shape[1]);
  const { indices } = tf.topk(logits, k);
  const hits = tf.cast(tf.equal(indices, tf.reshape(labels, [-1, 1])), 'float32');
  const correct1 = tf.sum(tf.slice(hits, [0, 0], [-1, 1])) as tf.Scalar;
  const correct5 = tf.sum(hits) as tf.Scalar;
  return { correct1, correct5 };
}
