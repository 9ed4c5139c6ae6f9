/**
 * Fully connected layer y = x·W + b with feedback weights B (W's [in, out] shape).
 * Backward: δ_in = δ_out·Fᵀ (eq. 3; or a δ the rule supplies, DFA), ΔW ∝ xᵀ·δ_out (eq. 4), Δb ∝ Σ δ_out.
 */
import * as tf from '@tensorflow/tfjs-core';
import { seedFrom } from '../../util/rng.js';
import {
  addGrad,
  type BackwardContext,
  type FeedbackLayer,
  type ForwardContext,
  heNormal,
  ownedVariable,
  type Param,
} from './types.js';

export class FeedbackDense implements FeedbackLayer {
  readonly kind = 'dense' as const;
  readonly W: Param;
  readonly bias: Param;
  B: Param | null = null;
  inputShape: number[] | null = null;

  constructor(
    readonly name: string,
    readonly fanIn: number,
    readonly fanOut: number,
    seed: number,
  ) {
    const w = heNormal([fanIn, fanOut], fanIn, seedFrom(seed, name, 'W'));
    this.W = { name: `${name}/W`, value: ownedVariable(w), isWeight: true };
    this.bias = { name: `${name}/bias`, value: ownedVariable(tf.zeros([fanOut])), isWeight: false };
  }

  linear(x: tf.Tensor, W: tf.Tensor = this.W.value): tf.Tensor {
    return tf.matMul(x as tf.Tensor2D, W as tf.Tensor2D);
  }

  weightGrad(x: tf.Tensor, dy: tf.Tensor): tf.Tensor {
    return tf.matMul(x as tf.Tensor2D, dy as tf.Tensor2D, true, false);
  }

  pairsPerExample(): number {
    return 1;
  }

  forward(x: tf.Tensor, ctx: ForwardContext): tf.Tensor {
    this.inputShape ??= x.shape.slice(1);
    const z = this.linear(x);
    const y = tf.add(z, this.bias.value);
    ctx.save(this, x);
    ctx.io?.set(this, { x, y: z });
    return y;
  }

  backward(dy: tf.Tensor, ctx: ForwardContext, bctx: BackwardContext): tf.Tensor {
    const x = ctx.get<tf.Tensor2D>(this);
    bctx.deltas?.set(this, dy);
    addGrad(bctx.grads, this.W, this.weightGrad(x, dy));
    addGrad(bctx.grads, this.bias, tf.sum(dy, 0));
    return (
      bctx.directDelta?.(this) ??
      tf.matMul(dy as tf.Tensor2D, bctx.feedback(this) as tf.Tensor2D, false, true)
    );
  }

  params(): Param[] {
    return [this.W, this.bias];
  }
  buffers(): Param[] {
    return [];
  }
  feedbackLayers(): FeedbackLayer[] {
    return [this];
  }
}
