/**
 * ResNets for every learning rule: ImageNet ResNet-18/34/50 (7x7/2 stem + max pool,
 * stages of 64-512 channels) and the CIFAR ResNet-20/32/56 (3x3 stem, 16/32/64
 * channels). Global average pooling and one dense layer end each net.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { type BlockSettings, basicBlock, bottleneckBlock, convUnit } from './blocks.js';
import type { ModelConfig } from './config.js';
import type { FeedbackConv2d } from './layers/conv.js';
import { FeedbackDense } from './layers/dense.js';
import { GlobalAvgPool, MaxPool, Sequential } from './layers/simple.js';
import type { BackwardContext, FeedbackLayer, ForwardContext, Module, Param } from './layers/types.js';

interface ArchSpec {
  stem: 'imagenet' | 'cifar';
  block: 'basic' | 'bottleneck';
  blocks: number[];
  widths: number[];
}

const ARCHS: Record<ModelConfig['arch'], ArchSpec> = {
  resnet18: { stem: 'imagenet', block: 'basic', blocks: [2, 2, 2, 2], widths: [64, 128, 256, 512] },
  resnet34: { stem: 'imagenet', block: 'basic', blocks: [3, 4, 6, 3], widths: [64, 128, 256, 512] },
  resnet50: { stem: 'imagenet', block: 'bottleneck', blocks: [3, 4, 6, 3], widths: [64, 128, 256, 512] },
  resnet20: { stem: 'cifar', block: 'basic', blocks: [3, 3, 3], widths: [16, 32, 64] },
  resnet32: { stem: 'cifar', block: 'basic', blocks: [5, 5, 5], widths: [16, 32, 64] },
  resnet56: { stem: 'cifar', block: 'basic', blocks: [9, 9, 9], widths: [16, 32, 64] },
};

export class ResNet implements Module {
  readonly body: Sequential;
  readonly head: FeedbackDense;
  private readonly net: Sequential;

  constructor(cfg: ModelConfig, inChannels: number, numClasses: number, seed: number) {
    const spec = ARCHS[cfg.arch];
    const s: BlockSettings = {
      bnPosition: cfg.bn_position,
      bnMomentum: cfg.bn_momentum,
      bnEpsilon: cfg.bn_epsilon,
      seed,
    };
    const ch = (c: number) => Math.max(1, Math.round(c * cfg.width));
    const widths = spec.widths.map(ch);
    const modules: Module[] = [];
    const stemC = spec.stem === 'imagenet' ? ch(64) : widths[0];
    const stemKernel = spec.stem === 'imagenet' ? 7 : 3;
    const stemStride = spec.stem === 'imagenet' ? 2 : 1;
    modules.push(
      ...convUnit(
        'stem',
        s,
        { kernel: stemKernel, inChannels, outChannels: stemC, stride: stemStride },
        true,
      ),
    );
    if (spec.stem === 'imagenet') modules.push(new MaxPool());
    let c = stemC;
    spec.blocks.forEach((count, stage) => {
      for (let b = 0; b < count; b++) {
        const stride = b === 0 && stage > 0 ? 2 : 1;
        const name = `stage${stage + 1}/block${b + 1}`;
        if (spec.block === 'basic') {
          modules.push(basicBlock(name, s, c, widths[stage], stride));
          c = widths[stage];
        } else {
          modules.push(bottleneckBlock(name, s, c, widths[stage], stride));
          c = widths[stage] * 4;
        }
      }
    });
    modules.push(new GlobalAvgPool());
    this.body = new Sequential(modules);
    this.head = new FeedbackDense('fc', c, numClasses, seed);
    this.net = new Sequential([this.body, this.head]);
    (this.net.feedbackLayers()[0] as FeedbackConv2d).skipInputGrad = true;
  }

  forward(x: tf.Tensor, ctx: ForwardContext): tf.Tensor {
    return this.net.forward(x, ctx);
  }
  backward(dy: tf.Tensor, ctx: ForwardContext, bctx: BackwardContext): tf.Tensor {
    return this.net.backward(dy, ctx, bctx);
  }
  params(): Param[] {
    return this.net.params();
  }
  buffers(): Param[] {
    return this.net.buffers();
  }
  /** Conv and dense layers, input → output. */
  feedbackLayers(): FeedbackLayer[] {
    return this.net.feedbackLayers();
  }
}
