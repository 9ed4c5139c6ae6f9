/**
 * SGD with (Nesterov) momentum and L2 weight decay, PyTorch semantics:
 *   g ← g + λ·p;  v ← μ·v + g;  p ← p − η·(g + μ·v)  (Nesterov)  or  p − η·v
 * With μ = 0 this is W ← (1 − ηλ)W − η·δ yᵀ: λ as an L2 term (App. D.1); Alg. 1/2 write
 * (1 − λ)W, the step size folded into λ. Each parameter (W, B under KP, biases, BN γ/β)
 * has its own momentum buffer.
 */
import * as tf from '@tensorflow/tfjs-core';
import { type SgdEntry, sgdUpdateMany } from '../backend/ops/sgd_update.js';
import { ownedVariable, type Param } from '../models/layers/types.js';
import type { OptimizerConfig } from './config.js';

export class Sgd {
  private readonly momenta = new Map<string, tf.Variable>();

  constructor(private readonly cfg: OptimizerConfig) {}

  /** Apply one update to each (param, gradient) pair at learning rate `lr`. */
  step(updates: Array<[Param, tf.Tensor]>, lr: number): void {
    const { momentum, nesterov } = this.cfg;
    const entries: SgdEntry[] = updates.map(([p, grad]) => ({
      param: p.value,
      grad,
      velocity: momentum > 0 ? this.buffer(p) : null,
      weightDecay: p.isWeight || this.cfg.decay_bias_and_bn ? this.cfg.weight_decay : 0,
    }));
    sgdUpdateMany(entries, { lr, momentum, nesterov });
  }

  private buffer(p: Param): tf.Variable {
    let v = this.momenta.get(p.name);
    if (!v) {
      v = ownedVariable(tf.zerosLike(p.value));
      this.momenta.set(p.name, v);
    }
    return v;
  }

  /** Momentum buffers by checkpoint name. */
  state(): Record<string, tf.Variable> {
    const out: Record<string, tf.Variable> = {};
    for (const [name, v] of this.momenta) out[`opt/${name}/momentum`] = v;
    return out;
  }

  restore(tensors: Record<string, tf.Tensor>): void {
    for (const [key, t] of Object.entries(tensors)) {
      const m = /^opt\/(.+)\/momentum$/.exec(key);
      if (!m) continue;
      const existing = this.momenta.get(m[1]);
      if (existing) existing.assign(t);
      else this.momenta.set(m[1], ownedVariable(t.clone()));
    }
  }

  dispose(): void {
    for (const v of this.momenta.values()) v.dispose();
    this.momenta.clear();
  }
}
