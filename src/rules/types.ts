/**
 * One interface for the five learning rules. A rule decides which kernel carries
 * δ backwards through each conv/dense layer (eq. 3) and how the feedback weights B
 * are made and updated; models and the trainer never branch on the rule's name.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { FeedbackLayer, Param } from '../models/layers/types.js';
import type { RuleConfig } from './config.js';

export interface RuleContext {
  cfg: RuleConfig;
  /** Conv/dense layers, input → output, with their input shapes already known. */
  layers: FeedbackLayer[];
  seed: number;
  /**
   * Forward noise through the whole network in probe mode and return each layer's
   * input and pre-activation output (all-at-once mirroring, App. C.4). Caller disposes.
   */
  probeNetwork(x: tf.Tensor): Map<FeedbackLayer, { x: tf.Tensor; y: tf.Tensor }>;
  /** Shape of one network input, without the batch dimension. */
  inputShape: number[];
}

export interface LearningRule {
  readonly name: RuleConfig['name'];
  /** The kernel δ is sent through at `layer` (eq. 3): W for backprop, else the feedback weights. */
  feedback(layer: FeedbackLayer): tf.Tensor;
  /**
   * (param, gradient) pairs the optimiser applies to feedback weights, given the
   * forward parameters' gradients (KP: B gets exactly W's gradient, eq. 17). Empty for others.
   */
  feedbackGradients(grads: Map<Param, tf.Tensor>): Array<[Param, tf.Tensor]>;
  /** Epochs of mirror-only warm-up before engaged training (WM; 0 for the others). */
  readonly warmupEpochs: number;
  /** After training step `step` − 1 has updated W (SS re-derives B; WM: `mirror_steps_per_batch` mirror steps). */
  afterStep(step: number): void;
  /** One mirror-mode step (WM; a no-op for the others). */
  mirrorStep(): void;
  /** Counters to checkpoint (e.g. mirror steps taken). */
  scalars(): Record<string, number>;
  restoreScalars(s: Record<string, number>): void;
  /** Free the tensors the rule keeps for itself (not the layers' B: those are parameters). */
  dispose(): void;
}
