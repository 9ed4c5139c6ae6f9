/**
 * Sign-symmetry (Xiao et al. 2018, the paper's [7]): B = sign(W) ⊙ M, recomputed from W
 * after every update (so the backward pass and the angles always see the current
 * signs): only W's signs are shared. The paper gives no magnitudes; it compares its SS
 * result with [7], so the default follows [7]'s released code (willwx/sign-symmetry).
 * Magnitudes M:
 *   xiao: one scalar per layer, as [7]'s code: sqrt(2 / (k·k·C_out)) for a conv (the
 *         torchvision ResNet init scale), 1/sqrt(fan_in) for the dense layer
 *   usf:  one scalar per layer, sqrt(2 / (fan_in + fan_out))
 *   brsf: |R| with R drawn afresh for every batch (He-normal scale)
 *   frsf: |R| drawn once and kept
 */
import * as tf from '@tensorflow/tfjs-core';
import { normalNoise } from '../backend/ops/normal_noise.js';
import { signTimes } from '../backend/ops/sign_times.js';
import type { FeedbackLayer } from '../models/layers/types.js';
import { seedFrom } from '../util/rng.js';
import { FeedbackWeightsRule } from './base.js';
import type { SsOptions } from './options.js';
import type { RuleContext } from './types.js';

export class SignSymmetry extends FeedbackWeightsRule {
  readonly name = 'ss' as const;
  private readonly fixedMagnitude = new Map<FeedbackLayer, tf.Tensor>();

  constructor(protected override readonly ctx: RuleContext<SsOptions>) {
    super(ctx);
    if (ctx.cfg.ss_variant === 'frsf') {
      for (const layer of ctx.layers)
        this.fixedMagnitude.set(layer, tf.keep(this.randomMagnitude(layer, 'frsf')));
    }
    this.deriveFromW(0);
  }

  /** |R|, R ~ N(0, 2/fan_in) (drawn on the device on webgpu). */
  private randomMagnitude(layer: FeedbackLayer, ...tag: (string | number)[]): tf.Tensor {
    return tf.tidy(() => {
      const seed = seedFrom(this.ctx.seed, this.ctx.cfg.feedback_seed, layer.name, ...tag);
      return tf.abs(normalNoise(layer.W.value.shape, seed, Math.sqrt(2 / layer.fanIn)));
    });
  }

  override afterStep(step: number): void {
    this.deriveFromW(step);
  }

  override dispose(): void {
    tf.dispose([...this.fixedMagnitude.values()]);
    this.fixedMagnitude.clear();
  }

  private deriveFromW(step: number): void {
    tf.tidy(() => {
      for (const layer of this.ctx.layers) {
        let magnitude: tf.Tensor | number;
        switch (this.ctx.cfg.ss_variant) {
          case 'xiao':
            magnitude = xiaoMagnitude(layer);
            break;
          case 'usf':
            magnitude = Math.sqrt(2 / (layer.fanIn + layer.fanOut));
            break;
          case 'brsf':
            magnitude = this.randomMagnitude(layer, 'brsf', step);
            break;
          default:
            magnitude = this.fixedMagnitude.get(layer) as tf.Tensor;
        }
        layer.B?.value.assign(signTimes(layer.W.value, magnitude));
      }
    });
  }
}

/** [7]'s scale: sqrt(2 / (k·k·C_out)) for a conv (its fan_out), 1/sqrt(in_features) for the dense layer. */
export function xiaoMagnitude(layer: FeedbackLayer): number {
  return layer.kind === 'conv' ? Math.sqrt(2 / layer.fanOut) : 1 / Math.sqrt(layer.fanIn);
}
