/**
 * BatchNorm over N·H·W per channel. Under every learning rule it keeps its exact
 * backward: the paper passes σ (and γ) from the forward to the feedback path
 * (App. D.3). The arithmetic is in src/backend/ops/batch_norm_train.ts (a fused
 * kernel on webgpu); this layer adds running statistics and parameter plumbing. With
 * `reluInput` it is the after_relu unit's ReLU → BN in one module (src/backend/ops/relu_batch_norm.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import { batchNormTrain, batchNormTrainGrad } from '../../backend/ops/batch_norm_train.js';
import { reluBatchNormTrain, reluBatchNormTrainGrad } from '../../backend/ops/relu_batch_norm.js';
import type { BackwardContext, FeedbackLayer, ForwardContext, Module, Param } from './types.js';
import { addGrad, ownedVariable } from './types.js';

interface Saved {
  /** The input (with reluInput: what reluBatchNormTrainGrad wants back). */
  x: tf.Tensor;
  mean: tf.Tensor;
  variance: tf.Tensor;
}

export class BatchNorm implements Module {
  readonly gamma: Param;
  readonly beta: Param;
  readonly runningMean: Param;
  readonly runningVar: Param;

  constructor(
    readonly name: string,
    channels: number,
    private readonly momentum: number,
    private readonly epsilon: number,
    /** Normalise ReLU(x): the after_relu unit's ReLU, fused into BatchNorm where a backend can. */
    readonly reluInput = false,
  ) {
    const v = (suffix: string, init: tf.Tensor, isWeight: boolean): Param => ({
      name: `${name}/${suffix}`,
      value: ownedVariable(init),
      isWeight,
    });
    this.gamma = v('gamma', tf.ones([channels]), false);
    this.beta = v('beta', tf.zeros([channels]), false);
    this.runningMean = v('running_mean', tf.zeros([channels]), false);
    this.runningVar = v('running_var', tf.ones([channels]), false);
  }

  forward(x: tf.Tensor, ctx: ForwardContext): tf.Tensor {
    if (ctx.mode === 'eval') {
      if (this.reluInput) x = tf.relu(x);
      const invStd = tf.rsqrt(tf.add(this.runningVar.value, this.epsilon));
      const scale = tf.mul(this.gamma.value, invStd);
      return tf.add(tf.mul(x, scale), tf.sub(this.beta.value, tf.mul(this.runningMean.value, scale)));
    }
    // 'train' updates the running statistics; 'probe' passes leave them alone.
    const running =
      ctx.mode === 'train'
        ? { mean: this.runningMean.value, variance: this.runningVar.value, momentum: this.momentum }
        : undefined;
    // With reluInput the backward wants back what the op saved (z, or ReLU(z) generically).
    const { y, mean, variance, saved } = this.reluInput
      ? reluBatchNormTrain(x, this.gamma.value, this.beta.value, this.epsilon, running)
      : { ...batchNormTrain(x, this.gamma.value, this.beta.value, this.epsilon, running), saved: x };
    ctx.save(this, { x: saved, mean, variance } satisfies Saved);
    return y;
  }

  backward(dy: tf.Tensor, ctx: ForwardContext, bctx: BackwardContext): tf.Tensor {
    const { x, mean, variance } = ctx.get<Saved>(this);
    const grad = this.reluInput ? reluBatchNormTrainGrad : batchNormTrainGrad;
    const { dx, dGamma, dBeta } = grad(dy, x, mean, variance, this.gamma.value, this.epsilon);
    addGrad(bctx.grads, this.gamma, dGamma);
    addGrad(bctx.grads, this.beta, dBeta);
    return dx;
  }

  params(): Param[] {
    return [this.gamma, this.beta];
  }
  buffers(): Param[] {
    return [this.runningMean, this.runningVar];
  }
  feedbackLayers(): FeedbackLayer[] {
    return [];
  }
}
