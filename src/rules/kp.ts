/**
 * Kolen-Pollack (section 5, eqs. 16-17): B receives exactly W's adjustment —
 * the same gradient y_l δ_{l+1}ᵀ in B's layout, the same learning rate, schedule,
 * momentum (B has its own buffer fed the same gradient) and weight decay λ. So
 * W − B shrinks by (1 − ηλ) every plain-SGD step (eqs. 13-14).
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { Param } from '../models/layers/types.js';
import { FeedbackWeightsRule } from './base.js';

export class KolenPollack extends FeedbackWeightsRule {
  readonly name = 'kp' as const;

  override feedbackGradients(grads: Map<Param, tf.Tensor>): Array<[Param, tf.Tensor]> {
    const pairs: Array<[Param, tf.Tensor]> = [];
    for (const layer of this.ctx.layers) {
      const g = grads.get(layer.W);
      if (g && layer.B) pairs.push([layer.B, g]);
    }
    return pairs;
  }
}
