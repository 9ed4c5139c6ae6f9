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

/** Route `op` on `backend` to `fn`; undefined routes it back to the generic path. */
export function registerOpImpl<F>(op: string, backend: string, fn: F | undefined): void {
  let byBackend = impls.get(op);
  if (!byBackend) {
    byBackend = new Map();
    impls.set(op, byBackend);
  }
  if (fn === undefined) byBackend.delete(backend);
  else byBackend.set(backend, fn);
}

/** The implementation of `op` for the active backend, or undefined to use tfjs's own. */
export function opImplFor<F>(op: string): F | undefined {
  return impls.get(op)?.get(tf.getBackend()) as F | undefined;
}
