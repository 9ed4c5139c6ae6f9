/**
 * Per-backend implementations of the few ops whose stock tfjs kernels are missing
 * or slow for training (conv filter/input gradients, BatchNorm). Each op file looks
 * up the active backend here and falls back to its stock tfjs path.
 *
 * An implementation is plain tensor code (tf ops) or a custom kernel call; it must
 * not leak tensors (callers wrap in tf.tidy).
 */
import * as tf from '@tensorflow/tfjs-core';

/**
 * Op name → the signature of its implementations. Each op file adds its own entry
 * (`declare module './registry.js' { interface OpImpls { conv2d: Conv2dFn } }`), so a
 * misspelt name or a wrong signature fails to compile instead of silently falling back.
 */
// biome-ignore lint/suspicious/noEmptyInterface: filled by declaration merging in each op file
export interface OpImpls {}
export type OpName = keyof OpImpls;
/** Backends with implementations here (tfjs's names). */
export type OpBackend = 'wasm' | 'webgpu' | 'cpu' | 'tensorflow';

const impls = new Map<OpName, Map<string, unknown>>();

/** Route `op` on `backend` to `fn`; undefined routes it back to the generic path. */
export function registerOpImpl<K extends OpName>(
  op: K,
  backend: OpBackend,
  fn: OpImpls[K] | undefined,
): void {
  let byBackend = impls.get(op);
  if (!byBackend) {
    byBackend = new Map();
    impls.set(op, byBackend);
  }
  if (fn === undefined) byBackend.delete(backend);
  else byBackend.set(backend, fn);
}

/** The implementation of `op` for the active backend, or undefined to use tfjs's own. */
export function opImplFor<K extends OpName>(op: K): OpImpls[K] | undefined {
  return impls.get(op)?.get(tf.getBackend()) as OpImpls[K] | undefined;
}
