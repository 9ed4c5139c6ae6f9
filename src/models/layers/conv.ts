/**
 * Convolution with forward weights W and feedback weights B (same HWIO shape, as
 * in the paper). Forward: y = conv(x, W). Backward:
 *   δ_in = conv-transpose(δ_out, F)   (eq. 3, F = the rule's feedback kernel; or a δ the rule supplies, DFA)
 *   ΔW  ∝ Σ x ⋆ δ_out                 (eq. 4, the usual weight gradient)
 * No bias: every conv in a ResNet is followed by BatchNorm.
 */
import * as tf from '@tensorflow/tfjs-core';
import { conv2d, convOutSize } from '../../backend/ops/conv2d.js';
import { conv2dFilterGrad } from '../../backend/ops/conv2d_filter_grad.js';
import { conv2dInputGrad } from '../../backend/ops/conv2d_input_grad.js';
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

export interface ConvOptions {
  kernel: number;
  inChannels: number;
  outChannels: number;
  stride: number;
  /** Symmetric zero padding; defaults to (kernel-1)/2. */
  pad?: number;
}

export class FeedbackConv2d implements FeedbackLayer {
  readonly kind = 'conv' as const;
  readonly W: Param;
  B: Param | null = null;
  readonly fanIn: number;
  readonly fanOut: number;
  readonly stride: number;
  readonly pad: number;
  readonly filterShape: [number, number, number, number];
  inputShape: number[] | null = null;
  /** Set on a network's first layer: nothing upstream needs δ, so its (costly) input gradient is skipped. */
  skipInputGrad = false;

  constructor(
    readonly name: string,
    o: ConvOptions,
    seed: number,
  ) {
    this.stride = o.stride;
    this.pad = o.pad ?? (o.kernel - 1) / 2;
    this.filterShape = [o.kernel, o.kernel, o.inChannels, o.outChannels];
    this.fanIn = o.kernel * o.kernel * o.inChannels;
    this.fanOut = o.kernel * o.kernel * o.outChannels;
    const w = heNormal(this.filterShape, this.fanIn, seedFrom(seed, name, 'W'));
    this.W = { name: `${name}/W`, value: ownedVariable(w), isWeight: true };
  }

  linear(x: tf.Tensor, W: tf.Tensor = this.W.value): tf.Tensor {
    return conv2d(x as tf.Tensor4D, W as tf.Tensor4D, this.stride, this.pad);
  }

  weightGrad(x: tf.Tensor, dy: tf.Tensor): tf.Tensor {
    return conv2dFilterGrad(x as tf.Tensor4D, dy as tf.Tensor4D, this.filterShape, this.stride, this.pad);
  }

  pairsPerExample(x: tf.Tensor): tf.Tensor {
    const [kh, kw] = this.filterShape;
    const along = (size: number, k: number): number[] => {
      const out = convOutSize(size, k, this.stride, this.pad);
      return Array.from({ length: k }, (_, i) => {
        let n = 0;
        for (let o = 0; o < out; o++) {
          const at = o * this.stride + i - this.pad;
          if (at >= 0 && at < size) n++;
        }
        return n;
      });
    };
    const rows = along(x.shape[1] as number, kh);
    const cols = along(x.shape[2] as number, kw);
    return tf.tensor4d(
      rows.flatMap((r) => cols.map((c) => r * c)),
      [kh, kw, 1, 1],
    );
  }

  forward(x: tf.Tensor, ctx: ForwardContext): tf.Tensor {
    this.inputShape ??= x.shape.slice(1);
    const y = this.linear(x);
    ctx.save(this, x);
    ctx.io?.set(this, { x, y });
    return y;
  }

  backward(dy: tf.Tensor, ctx: ForwardContext, bctx: BackwardContext): tf.Tensor {
    const x = ctx.get<tf.Tensor4D>(this);
    bctx.deltas?.set(this, dy);
    addGrad(bctx.grads, this.W, this.weightGrad(x, dy));
    if (this.skipInputGrad) return tf.zeros([]);
    return (
      bctx.directDelta?.(this) ??
      conv2dInputGrad(
        dy as tf.Tensor4D,
        bctx.feedback(this) as tf.Tensor4D,
        x.shape as [number, number, number, number],
        this.stride,
        this.pad,
      )
    );
  }

  params(): Param[] {
    return [this.W];
  }
  buffers(): Param[] {
    return [];
  }
  feedbackLayers(): FeedbackLayer[] {
    return [this];
  }
}
