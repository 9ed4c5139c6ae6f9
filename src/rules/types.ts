/**
 * One interface for the learning rules (src/rules/registry.ts lists them). A rule decides
 * how δ travels back to each conv/dense layer — through a feedback kernel, layer by
 * layer (eq. 3), or straight from the output error (DFA) — and how the feedback weights B
 * are made and updated; models and the trainer never branch on the rule's name.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { FeedbackLayer, Param } from '../models/layers/types.js';

/**
 * What a rule is built from. `cfg` is the run's `rule:` section; a rule reads the keys
 * every rule has, plus its own options (src/rules/options.ts): RuleContext<WmOptions>.
 */
export interface RuleContext<Options extends object = object> {
  cfg: { name: string; feedback_seed: number } & Options;
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
  /** `rule.name` (src/rules/registry.ts). */
  readonly name: string;
  /**
   * The kernel of W's shape that δ is sent through at `layer` (eq. 3): W for backprop, else
   * the feedback weights; also what the matrix angle compares with W. null where the rule
   * supplies the δ below the layer itself (`directDelta`): no matrix angle there.
   */
  feedback(layer: FeedbackLayer): tf.Tensor | null;
  /**
   * The δ `layer` sends to the layers below in place of F·δ (eq. 3), from the output error
   * δ_L (the gradient of the loss w.r.t. the logits), or null for eq. 3. DFA projects δ_L
   * through a fixed random matrix; the other rules return null. A new tensor (the caller disposes it).
   */
  directDelta(layer: FeedbackLayer, deltaL: tf.Tensor): tf.Tensor | null;
  /**
   * (param, gradient) pairs the optimiser applies to feedback weights, given the
   * forward parameters' gradients (KP: B gets exactly W's gradient, eq. 17). Empty for others.
   */
  feedbackGradients(grads: Map<Param, tf.Tensor>): Array<[Param, tf.Tensor]>;
  /** Epochs of the rule's own warm-up before engaged training (WM: mirror-only epochs; 0 for the others). */
  readonly warmupEpochs: number;
  /** One step of that warm-up, taken instead of a training step (WM: a mirror step). */
  warmupStep(): void;
  /** After training step `step` − 1 has updated W (SS re-derives B; WM: `mirror_steps_per_batch` mirror steps). */
  afterStep(step: number): void;
  /** Counters to checkpoint (e.g. mirror steps taken). */
  scalars(): Record<string, number>;
  restoreScalars(s: Record<string, number>): void;
  /** Free the tensors the rule keeps for itself (not the layers' B: those are parameters). */
  dispose(): void;
}
