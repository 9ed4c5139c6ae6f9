/** Backprop (eq. 2): δ travels back through Wᵀ itself — weight transport. No B is kept. */
import type * as tf from '@tensorflow/tfjs-core';
import type { FeedbackLayer } from '../models/layers/types.js';
import { RuleBase } from './base.js';

export class Backprop extends RuleBase {
  readonly name = 'bp' as const;
  feedback(layer: FeedbackLayer): tf.Tensor {
    return layer.W.value;
  }
}
