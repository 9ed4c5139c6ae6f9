/**
 * ResNet building blocks, written once for every learning rule.
 *
 * BatchNorm placement follows the TPU ResNet code the paper started from, where a
 * `batch_norm_relu(x, relu)` unit follows each conv: with `bn_position: before_relu`
 * it is BN then ReLU (He et al.); with `after_relu` (the paper's default, App. D.3)
 * it is ReLU then BN. The last unit of a residual branch has no ReLU, and the sum
 * with the shortcut goes through a ReLU.
 */
import * as tf from '@tensorflow/tfjs-core';
import { BatchNorm } from './layers/batchnorm.js';
import { FeedbackConv2d } from './layers/conv.js';
import { Relu, Sequential } from './layers/simple.js';
import type { BackwardContext, FeedbackLayer, ForwardContext, Module, Param } from './layers/types.js';

export interface BlockSettings {
  bnPosition: 'after_relu' | 'before_relu';
  bnMomentum: number;
  bnEpsilon: number;
  seed: number;
}

/** conv → batch_norm_relu: the unit every ResNet is made of. */
export function convUnit(
  name: string,
  s: BlockSettings,
  o: { kernel: number; inChannels: number; outChannels: number; stride: number },
  relu: boolean,
): Module[] {
  const conv = new FeedbackConv2d(`${name}`, o, s.seed);
  const bn = (reluInput: boolean) =>
    new BatchNorm(`${name}/bn`, o.outChannels, s.bnMomentum, s.bnEpsilon, reluInput);
  if (!relu) return [conv, bn(false)];
  // after_relu: ReLU → BN is one module, so a backend can fuse the ReLU into BatchNorm.
  return s.bnPosition === 'after_relu' ? [conv, bn(true)] : [conv, bn(false), new Relu()];
}

/** y = ReLU(branch(x) + shortcut(x)); shortcut is identity or a 1x1 projection conv + BN. */
export class Residual implements Module {
  private readonly outRelu = new Relu();
  constructor(
    readonly branch: Sequential,
    readonly shortcut: Sequential | null,
  ) {}

  forward(x: tf.Tensor, ctx: ForwardContext): tf.Tensor {
    const b = this.branch.forward(x, ctx);
    const s = this.shortcut ? this.shortcut.forward(x, ctx) : x;
    return this.outRelu.forwardSum(b, s, ctx);
  }

  backward(dy: tf.Tensor, ctx: ForwardContext, bctx: BackwardContext): tf.Tensor {
    const d = this.outRelu.backward(dy, ctx);
    const dxBranch = this.branch.backward(d, ctx, bctx);
    const dxShort = this.shortcut ? this.shortcut.backward(d, ctx, bctx) : d;
    const dx = tf.add(dxBranch, dxShort);
    dxBranch.dispose();
    if (dxShort !== d) dxShort.dispose();
    return dx;
  }

  private parts(): Module[] {
    return this.shortcut ? [this.branch, this.shortcut] : [this.branch];
  }
  params(): Param[] {
    return this.parts().flatMap((m) => m.params());
  }
  buffers(): Param[] {
    return this.parts().flatMap((m) => m.buffers());
  }
  feedbackLayers(): FeedbackLayer[] {
    return this.parts().flatMap((m) => m.feedbackLayers());
  }
}

function projection(
  name: string,
  s: BlockSettings,
  inC: number,
  outC: number,
  stride: number,
): Sequential | null {
  if (stride === 1 && inC === outC) return null;
  return new Sequential(
    convUnit(`${name}/shortcut`, s, { kernel: 1, inChannels: inC, outChannels: outC, stride }, false),
  );
}

/** Two 3x3 convs (ResNet-18/34 and the CIFAR ResNets). */
export function basicBlock(
  name: string,
  s: BlockSettings,
  inC: number,
  outC: number,
  stride: number,
): Residual {
  const branch = new Sequential([
    ...convUnit(`${name}/conv1`, s, { kernel: 3, inChannels: inC, outChannels: outC, stride }, true),
    ...convUnit(`${name}/conv2`, s, { kernel: 3, inChannels: outC, outChannels: outC, stride: 1 }, false),
  ]);
  return new Residual(branch, projection(name, s, inC, outC, stride));
}

/** 1x1 → 3x3 (strided) → 1x1 with 4x expansion (ResNet-50). `width` is the 3x3 conv's channels. */
export function bottleneckBlock(
  name: string,
  s: BlockSettings,
  inC: number,
  width: number,
  stride: number,
): Residual {
  const outC = width * 4;
  const branch = new Sequential([
    ...convUnit(`${name}/conv1`, s, { kernel: 1, inChannels: inC, outChannels: width, stride: 1 }, true),
    ...convUnit(`${name}/conv2`, s, { kernel: 3, inChannels: width, outChannels: width, stride }, true),
    ...convUnit(`${name}/conv3`, s, { kernel: 1, inChannels: width, outChannels: outC, stride: 1 }, false),
  ]);
  return new Residual(branch, projection(name, s, inC, outC, stride));
}
