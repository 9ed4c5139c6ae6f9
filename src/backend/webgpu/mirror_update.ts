/**
 * Op `mirrorUpdate` (WM's B ← (1 − λ)·B + η·G/P, eq. 21) in one dispatch, rounded as the
 * tf ops are: (B·decay) + ((G / P)·η). P is a scalar tensor (dense layers) or one count
 * per tap broadcast over the trailing axes ([kh, kw, 1, 1] for a conv); other shapes take
 * the tf ops.
 */
import * as tf from '@tensorflow/tfjs-core';
import { type MirrorUpdateFn, stockMirrorUpdate } from '../ops/mirror_update.js';
import { ElementwiseProgram, runElementwise } from './elementwise.js';
import { type KernelArgs, registerWebgpuKernel } from './program.js';

export const MIRROR_UPDATE_KERNEL = 'WtrainMirrorUpdate';

/** Elements of B per element of P when P broadcasts along B's trailing axes only; else null. */
export function trailingBroadcast(bShape: number[], pShape: number[]): number | null {
  if (pShape.length === 0) return tf.util.sizeFromShape(bShape);
  if (pShape.length !== bShape.length) return null;
  let k = 0;
  while (k < pShape.length && pShape[k] === bShape[k]) k++;
  if (pShape.slice(k).some((d) => d !== 1)) return null;
  return tf.util.sizeFromShape(bShape.slice(k));
}

function mirrorUpdateKernel({
  inputs,
  backend,
  attrs,
}: KernelArgs<'b' | 'g' | 'pairs', { decay: number; eta: number; inner: number }>): tf.TensorInfo {
  const { b, g, pairs } = inputs;
  const program = new ElementwiseProgram(
    'wtrainMirrorUpdate',
    ['b', 'g', 'pairs'],
    'b[index] * uniforms.decay + (g[index] / pairs[index / uniforms.inner]) * uniforms.eta',
    tf.util.sizeFromShape(b.shape),
    'decay : f32, eta : f32, inner : i32,',
  );
  return runElementwise(backend, program, [b, g, pairs], b.shape, [
    { type: 'float32', data: [attrs.decay] },
    { type: 'float32', data: [attrs.eta] },
    { type: 'int32', data: [attrs.inner] },
  ]);
}

export function registerMirrorUpdateKernel(): void {
  registerWebgpuKernel(MIRROR_UPDATE_KERNEL, mirrorUpdateKernel);
}

export const webgpuMirrorUpdate: MirrorUpdateFn = (B, G, pairs, decay, eta) => {
  const inner = typeof pairs === 'number' ? null : trailingBroadcast(B.shape, pairs.shape);
  if (typeof pairs === 'number' || inner === null || B.size !== G.size || pairs.dtype !== 'float32') {
    return stockMirrorUpdate(B, G, pairs, decay, eta);
  }
  return tf
    .engine()
    .runKernel(MIRROR_UPDATE_KERNEL, { b: B, g: G, pairs }, { decay, eta, inner }) as tf.Tensor;
};
