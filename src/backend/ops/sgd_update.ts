/**
 * One SGD step of one parameter, in place, PyTorch semantics:
 *   g ← g + λ·p;  v ← μ·v + g;  p ← p − η·(g + μ·v)  (Nesterov)  or  p − η·v;  μ = 0: p − η·g
 * Backends may register a fused kernel (webgpu does).
 */
import * as tf from '@tensorflow/tfjs-core';
import { opImplFor } from './registry.js';

export interface SgdHyper {
  lr: number;
  momentum: number;
  weightDecay: number;
  nesterov: boolean;
}

export type SgdUpdateFn = (
  param: tf.Variable,
  grad: tf.Tensor,
  velocity: tf.Variable | null,
  o: SgdHyper,
) => void;

export const stockSgdUpdate: SgdUpdateFn = (param, grad, velocity, o) => {
  tf.tidy(() => {
    const g = o.weightDecay > 0 ? tf.add(grad, tf.mul(param, o.weightDecay)) : grad;
    let direction = g;
    if (velocity && o.momentum > 0) {
      const v = tf.add(tf.mul(velocity, o.momentum), g);
      velocity.assign(v);
      direction = o.nesterov ? tf.add(g, tf.mul(v, o.momentum)) : v;
    }
    param.assign(tf.sub(param, tf.mul(direction, o.lr)));
  });
};

export function sgdUpdate(
  param: tf.Variable,
  grad: tf.Tensor,
  velocity: tf.Variable | null,
  o: SgdHyper,
): void {
  (opImplFor<SgdUpdateFn>('sgdUpdate') ?? stockSgdUpdate)(param, grad, velocity, o);
}
