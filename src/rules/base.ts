/** What most rules share: random feedback weights B drawn like W's init, used as-is in eq. 3. */
import type * as tf from '@tensorflow/tfjs-core';
import type { FeedbackLayer, Param } from '../models/layers/types.js';
import { heNormal, ownedVariable } from '../models/layers/types.js';
import { seedFrom } from '../util/rng.js';
import type { LearningRule, RuleContext } from './types.js';

/** Give every layer a B ~ He-normal(fan-in), seeded independently of W. */
export function createRandomFeedback(ctx: RuleContext): void {
  for (const layer of ctx.layers) {
    const shape = layer.W.value.shape;
    const init = heNormal(shape, layer.fanIn, seedFrom(ctx.seed, ctx.cfg.feedback_seed, layer.name, 'B'));
    layer.B = { name: `${layer.name}/B`, value: ownedVariable(init), isWeight: true };
  }
}

/** The no-op defaults of the LearningRule hooks. */
export abstract class RuleBase implements LearningRule {
  abstract readonly name: LearningRule['name'];
  readonly warmupEpochs: number = 0;
  abstract feedback(layer: FeedbackLayer): tf.Tensor | null;
  directDelta(_layer: FeedbackLayer, _deltaL: tf.Tensor): tf.Tensor | null {
    return null;
  }
  feedbackGradients(_grads: Map<Param, tf.Tensor>): Array<[Param, tf.Tensor]> {
    return [];
  }
  afterStep(_step: number): void {}
  warmupStep(): void {}
  scalars(): Record<string, number> {
    return {};
  }
  restoreScalars(_s: Record<string, number>): void {}
  dispose(): void {}
}

/** Rules that send δ through their own feedback weights B (all but backprop). */
export abstract class FeedbackWeightsRule extends RuleBase {
  constructor(protected readonly ctx: RuleContext) {
    super();
    createRandomFeedback(ctx);
  }

  feedback(layer: FeedbackLayer): tf.Tensor {
    return (layer.B as Param).value;
  }
}
