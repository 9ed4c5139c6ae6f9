/**
 * Per-backend implementations of the few ops whose stock tfjs kernels are missing
 * or slow for training (conv filter/input gradients, BatchNorm). Each op file looks
 * up the active backend here and falls back to its stock tfjs path.
 *
 * An implementation is plain tensor code (tf ops) or a custom kernel call; it must
 * not leak tensors (callers wrap in tf.tidy).
 */
import * as tf from '@tensorflow/tfjs-core';

const impls = new Map<string, Map<string, unknown>>();

export function registerOpImpl<F>(op: string, backend: string, fn: F): void {
  let byBackend = impls.get(op);
  if (!byBackend) {
    byBackend = new Map();
    impls.set(op, byBackend);
  }
  byBackend.set(backend, fn);
}

/** The implementation of `op` for the active backend, or undefined to use tfjs's own. */
export function opImplFor<F>(op: string): F | undefined {
  return impls.get(op)?.get(tf.getBackend()) as F | undefined;
}
