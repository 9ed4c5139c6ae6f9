/** Backprop (eq. 2): δ travels back through Wᵀ itself — weight transport. No B is kept. */
import type * as tf from '@tensorflow/tfjs-core';
import type { FeedbackLayer, Param } from '../models/layers/types.js';
import type { LearningRule } from './types.js';

export class Backprop implements LearningRule {
  readonly name = 'bp' as const;
  readonly warmupEpochs = 0;
  feedback(layer: FeedbackLayer): tf.Tensor {
    return layer.W.value;
  }
  feedbackGradients(_grads: Map<Param, tf.Tensor>): Array<[Param, tf.Tensor]> {
    return [];
  }
  afterStep(_step: number): void {}
  mirrorStep(): void {}
  scalars(): Record<string, number> {
    return {};
  }
  restoreScalars(): void {}
}
