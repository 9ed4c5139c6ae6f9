/** Parameter-free modules: ReLU, max pooling, global average pooling, and a sequence. */
import * as tf from '@tensorflow/tfjs-core';
import { addRelu } from '../../backend/ops/add_relu.js';
import { maxPoolGrad } from '../../backend/ops/max_pool_grad.js';
import { reluGrad } from '../../backend/ops/relu_grad.js';
import type { BackwardContext, FeedbackLayer, ForwardContext, Module, Param } from './types.js';

abstract class Stateless implements Module {
  abstract forward(x: tf.Tensor, ctx: ForwardContext): tf.Tensor;
  abstract backward(dy: tf.Tensor, ctx: ForwardContext, bctx: BackwardContext): tf.Tensor;
  params(): Param[] {
    return [];
  }
  buffers(): Param[] {
    return [];
  }
  feedbackLayers(): FeedbackLayer[] {
    return [];
  }
}

/** φ = ReLU; backward multiplies by φ'(y) = [y > 0] (the φ' factor of eq. 3). */
export class Relu extends Stateless {
  forward(x: tf.Tensor, ctx: ForwardContext): tf.Tensor {
    const y = tf.relu(x);
    ctx.save(this, y);
    return y;
  }
  /** ReLU(a + b) in one op (a residual block's output). */
  forwardSum(a: tf.Tensor, b: tf.Tensor, ctx: ForwardContext): tf.Tensor {
    const y = addRelu(a, b);
    ctx.save(this, y);
    return y;
  }
  backward(dy: tf.Tensor, ctx: ForwardContext): tf.Tensor {
    return reluGrad(dy, ctx.get<tf.Tensor>(this));
  }
}

/** 3x3/2 max pool with padding 1 (the ImageNet ResNet stem). */
export class MaxPool extends Stateless {
  constructor(
    private readonly size = 3,
    private readonly stride = 2,
    private readonly pad = 1,
  ) {
    super();
  }
  forward(x: tf.Tensor, ctx: ForwardContext): tf.Tensor {
    const y = tf.maxPool(x as tf.Tensor4D, this.size, this.stride, this.pad);
    ctx.save(this, { x, y });
    return y;
  }
  backward(dy: tf.Tensor, ctx: ForwardContext): tf.Tensor {
    const { x, y } = ctx.get<{ x: tf.Tensor4D; y: tf.Tensor4D }>(this);
    return maxPoolGrad(dy as tf.Tensor4D, x, y, {
      filterSize: this.size,
      strides: this.stride,
      pad: this.pad,
    });
  }
}

/** Mean over H and W: [N, H, W, C] → [N, C]. */
export class GlobalAvgPool extends Stateless {
  forward(x: tf.Tensor, ctx: ForwardContext): tf.Tensor {
    ctx.save(this, x.shape);
    return tf.mean(x, [1, 2]);
  }
  backward(dy: tf.Tensor, ctx: ForwardContext): tf.Tensor {
    const [n, h, w, c] = ctx.get<number[]>(this);
    // Broadcasting multiply (wasm's Tile is slow).
    return tf.mul(tf.reshape(tf.div(dy, h * w), [n, 1, 1, c]), tf.ones([1, h, w, 1]));
  }
}

/** Modules applied in order. */
export class Sequential implements Module {
  constructor(readonly modules: Module[]) {}
  forward(x: tf.Tensor, ctx: ForwardContext): tf.Tensor {
    let h = x;
    for (const m of this.modules) h = m.forward(h, ctx);
    return h;
  }
  backward(dy: tf.Tensor, ctx: ForwardContext, bctx: BackwardContext): tf.Tensor {
    let d = dy;
    for (let i = this.modules.length - 1; i >= 0; i--) {
      const next = this.modules[i].backward(d, ctx, bctx);
      // δ tensors recorded for angles must outlive this pass; the rest can go now.
      if (d !== dy && !isRecorded(d, bctx)) d.dispose();
      d = next;
    }
    return d;
  }
  params(): Param[] {
    return this.modules.flatMap((m) => m.params());
  }
  buffers(): Param[] {
    return this.modules.flatMap((m) => m.buffers());
  }
  feedbackLayers(): FeedbackLayer[] {
    return this.modules.flatMap((m) => m.feedbackLayers());
  }
}

function isRecorded(t: tf.Tensor, bctx: BackwardContext): boolean {
  if (!bctx.deltas) return false;
  for (const v of bctx.deltas.values()) if (v === t) return true;
  return false;
}
