/**
 * Weight mirrors (section 4, App. D.2, Algorithm 1). In mirror mode a layer's input
 * fires noise x ~ N(0, σ²); its output y = ReLU(x·W) (bias blocked, no BatchNorm)
 * and x are centred by their batch means (Alg. 1 lines 13-14); their covariance,
 * averaged over the batch and over the pairs each shared weight connects (App. D.2),
 * teaches B with weight decay (eq. 21):
 *   B ← (1 − λ_WM) B + η_B · E[(x − x̄)(y − ȳ)ᵀ]
 * E[x yᵀ] = σ² E[φ'] W (eqs. 8-12), so B turns towards a positive multiple of W.
 */
import * as tf from '@tensorflow/tfjs-core';
import { centredRelu } from '../backend/ops/centred_relu.js';
import { mirrorUpdate } from '../backend/ops/mirror_update.js';
import { normalNoise } from '../backend/ops/normal_noise.js';
import type { FeedbackLayer, Param } from '../models/layers/types.js';
import { seedFrom } from '../util/rng.js';
import { FeedbackWeightsRule } from './base.js';
import type { WmOptions } from './options.js';
import type { RuleContext } from './types.js';

export class WeightMirror extends FeedbackWeightsRule {
  readonly name = 'wm' as const;
  override readonly warmupEpochs: number;
  private mirrorSteps = 0;
  /** Per layer and input shape: the (example, position) pairs behind each weight (they depend on shapes only). */
  private readonly pairsCache = new Map<FeedbackLayer, { shape: string; pairs: tf.Tensor }>();

  constructor(protected override readonly ctx: RuleContext<WmOptions>) {
    super(ctx);
    this.warmupEpochs = ctx.cfg.wm.mirror_epochs;
  }

  override afterStep(_step: number): void {
    for (let i = 0; i < this.ctx.cfg.wm.mirror_steps_per_batch; i++) this.warmupStep();
  }

  /** One mirror-mode step (Alg. 1): each step of the mirror-only warm-up, and after every training batch. */
  override warmupStep(): void {
    const step = this.mirrorSteps++;
    const { mirror_layers: mode } = this.ctx.cfg.wm;
    if (mode === 'all_at_once') {
      this.mirrorAllAtOnce(step);
      return;
    }
    // Each layer mirrors fresh noise every step; layers with the same input shape share
    // one draw within a step (each B's update involves only its own layer's x and y, so
    // sharing changes no expectation and saves most of the noise generation).
    tf.tidy(() => {
      const draws = new Map<string, tf.Tensor>();
      this.ctx.layers.forEach((layer, index) => {
        if (mode === 'alternate' && index % 2 !== step % 2) return;
        const shape = [this.ctx.cfg.wm.mirror_batch_size, ...(layer.inputShape as number[])];
        const key = shape.join('x');
        let x = draws.get(key);
        if (!x) {
          x = this.noise(shape, step, key);
          draws.set(key, x);
        }
        const noise = x;
        tf.tidy(() => this.update(layer, noise, layer.linear(noise)));
      });
    });
  }

  /** App. C.4 (untested in the paper): noise at the network input, every B updated from its own layer's signals. */
  private mirrorAllAtOnce(step: number): void {
    tf.tidy(() => {
      const x = this.noise([this.ctx.cfg.wm.mirror_batch_size, ...this.ctx.inputShape], step, 'input');
      const io = this.ctx.probeNetwork(x);
      for (const layer of this.ctx.layers) {
        const signals = io.get(layer);
        if (signals) this.update(layer, signals.x, signals.y);
      }
    });
  }

  /** The same numbers on every backend; drawn on the device on webgpu. */
  private noise(shape: number[], step: number, tag: string): tf.Tensor {
    return normalNoise(shape, seedFrom(this.ctx.seed, 'mirror', step, tag), this.ctx.cfg.wm.noise_std);
  }

  /** Eq. 21 for one layer, given its input x and pre-activation output z = x·W. */
  private update(layer: FeedbackLayer, x: tf.Tensor, z: tf.Tensor): void {
    const { eta_b: eta, lambda_wm: lambda, b_scale } = this.ctx.cfg.wm;
    // y = ReLU(z). Alg. 1 lines 13-14 centre both signals by their batch means; since
    // Σₙ (xₙ − x̄)(yₙ − ȳ) = Σₙ xₙ (yₙ − ȳ) exactly, centring y alone gives the same covariance.
    const yc = centredRelu(z);
    // Average over the batch and over the pairs each shared weight connects (App. D.2).
    // A tap that meets only zero padding (maps smaller than the kernel's reach) connects
    // none: its G is 0 and so is its covariance (not 0/0).
    const pairs = this.pairs(layer, x);
    const B = (layer.B as Param).value;
    let next = mirrorUpdate(B, layer.weightGrad(x, yc), pairs, 1 - lambda, eta);
    if (b_scale === 'match_w_norm') next = tf.mul(next, tf.div(tf.norm(layer.W.value), tf.norm(next)));
    B.assign(next);
  }

  /** max(pairs per example, 1)·batch, made once per layer and mirror input shape (no per-step upload). */
  private pairs(layer: FeedbackLayer, x: tf.Tensor): tf.Tensor {
    const shape = x.shape.join('x');
    const cached = this.pairsCache.get(layer);
    if (cached?.shape === shape) return cached.pairs;
    cached?.pairs.dispose();
    const pairs = tf.keep(tf.tidy(() => tf.mul(tf.maximum(layer.pairsPerExample(x), 1), x.shape[0])));
    this.pairsCache.set(layer, { shape, pairs });
    return pairs;
  }

  override dispose(): void {
    for (const { pairs } of this.pairsCache.values()) pairs.dispose();
    this.pairsCache.clear();
  }

  override scalars(): Record<string, number> {
    return { mirror_steps: this.mirrorSteps };
  }
  override restoreScalars(s: Record<string, number>): void {
    this.mirrorSteps = s.mirror_steps ?? 0;
  }
}
