/**
 * BatchNorm over N·H·W per channel with a hand-written backward (tfjs's own
 * gradient expands per-channel vectors to full tensors several times over).
 * Under every learning rule BatchNorm keeps its exact backward: the paper passes
 * σ (and γ) from the forward to the feedback path (App. D.3).
 *   forward:  x̂ = (x − μ)/σ,  y = γ x̂ + β   (one fused kernel after the moments)
 *   backward: dβ = Σ dy,  dγ = Σ dy·x̂ = (Σ dy·x − μ·dβ)/σ,
 *             dx = (γ/σ)·(dy − dβ/M − x̂·dγ/M)
 * x̂ is never stored: the backward uses x (kept alive by the previous layer anyway).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BackwardContext, FeedbackLayer, ForwardContext, Module, Param } from './types.js';
import { addGrad, ownedVariable } from './types.js';

interface Saved {
  x: tf.Tensor;
  mean: tf.Tensor;
  invStd: tf.Tensor;
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
    const axes = x.shape.map((_, i) => i).slice(0, -1);
    if (ctx.mode === 'eval') {
      const invStd = tf.rsqrt(tf.add(this.runningVar.value, this.epsilon));
      const scale = tf.mul(this.gamma.value, invStd);
      return tf.add(tf.mul(x, scale), tf.sub(this.beta.value, tf.mul(this.runningMean.value, scale)));
    }
    const { mean, variance } = tf.moments(x, axes);
    const invStd = tf.rsqrt(tf.add(variance, this.epsilon));
    ctx.save(this, { x, mean, invStd } satisfies Saved);
    if (ctx.mode === 'train') {
      const m = x.size / (x.shape.at(-1) as number);
      const unbiased = tf.mul(variance, m / Math.max(1, m - 1));
      const mom = this.momentum;
      this.runningMean.value.assign(tf.add(tf.mul(this.runningMean.value, mom), tf.mul(mean, 1 - mom)));
      this.runningVar.value.assign(tf.add(tf.mul(this.runningVar.value, mom), tf.mul(unbiased, 1 - mom)));
    }
    return tf.batchNorm(x, mean, variance, this.beta.value, this.gamma.value, this.epsilon);
  }

  backward(dy: tf.Tensor, ctx: ForwardContext, bctx: BackwardContext): tf.Tensor {
    const { x, mean, invStd } = ctx.get<Saved>(this);
    const axes = dy.shape.map((_, i) => i).slice(0, -1);
    const m = dy.size / (dy.shape.at(-1) as number);
    const dBeta = tf.sum(dy, axes);
    const dGamma = tf.mul(tf.sub(tf.sum(tf.mul(dy, x), axes), tf.mul(mean, dBeta)), invStd);
    addGrad(bctx.grads, this.gamma, dGamma);
    addGrad(bctx.grads, this.beta, dBeta);
    // dx = k·dy − (x − μ)·invStd·b − a = k·dy − x·c + (μ·c − a), c = invStd·b
    const k = tf.mul(this.gamma.value, invStd);
    const a = tf.mul(k, tf.div(dBeta, m));
    const c = tf.mul(invStd, tf.mul(k, tf.div(dGamma, m)));
    return tf.add(tf.sub(tf.mul(dy, k), tf.mul(x, c)), tf.sub(tf.mul(mean, c), a));
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
