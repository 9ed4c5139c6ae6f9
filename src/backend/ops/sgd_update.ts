/**
 * One SGD step of one parameter (`sgdUpdate`) or of many (`sgdUpdateMany`), in place,
 * PyTorch semantics:
 *   g ← g + λ·p;  v ← μ·v + g;  p ← p − η·(g + μ·v)  (Nesterov)  or  p − η·v;  μ = 0: p − η·g
 * Backends may register fused kernels (wasm: one parameter per call; webgpu: several
 * parameters per dispatch).
 */
import * as tf from '@tensorflow/tfjs-core';
import { opImplFor } from './registry.js';

declare module './registry.js' {
  interface OpImpls {
    sgdUpdate: SgdUpdateFn;
    sgdUpdateMany: SgdUpdateManyFn;
  }
}

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
  (opImplFor('sgdUpdate') ?? stockSgdUpdate)(param, grad, velocity, o);
}

/** One parameter's part of a `sgdUpdateMany` call. */
export interface SgdEntry {
  param: tf.Variable;
  grad: tf.Tensor;
  velocity: tf.Variable | null;
  weightDecay: number;
}

export type SgdUpdateManyFn = (entries: SgdEntry[], o: Omit<SgdHyper, 'weightDecay'>) => void;

/** Every entry's update; a backend without a grouped kernel runs `sgdUpdate` on each. */
export function sgdUpdateMany(entries: SgdEntry[], o: Omit<SgdHyper, 'weightDecay'>): void {
  const grouped = opImplFor('sgdUpdateMany');
  if (grouped) {
    grouped(entries, o);
    return;
  }
  for (const e of entries) sgdUpdate(e.param, e.grad, e.velocity, { ...o, weightDecay: e.weightDecay });
}
