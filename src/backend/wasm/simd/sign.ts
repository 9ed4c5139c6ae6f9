/** sign(W) ⊙ M on the wasm backend in one pass (sign.wat); see ops/sign_times.ts. */
import * as tf from '@tensorflow/tfjs-core';
import { type SignTimesFn, stockSignTimes } from '../../ops/sign_times.js';
import {
  heapOffset,
  registerWasmKernelOnce,
  type SimdModules,
  simdModules,
  type WasmBackend,
} from './index.js';

export const SIGN_TIMES_KERNEL = 'WtrainSignTimes';

/** inputs w[, mag]; attrs m (used without mag) → sign(w)·(mag or m). */
function signTimesKernel({
  inputs: { w, mag },
  backend,
  attrs,
}: {
  inputs: { w: tf.TensorInfo; mag?: tf.TensorInfo };
  backend: tf.KernelBackend;
  attrs: { m: number };
}): tf.TensorInfo {
  const b = backend as unknown as WasmBackend;
  const { sign } = simdModules(b) as SimdModules;
  const out = b.makeOutput(w.shape, 'float32');
  const n = tf.util.sizeFromShape(w.shape);
  if (mag) sign.sign_times(heapOffset(b, w), heapOffset(b, mag), heapOffset(b, out), n);
  else sign.sign_scale(heapOffset(b, w), heapOffset(b, out), n, attrs.m);
  return out;
}

export function registerSignKernel(): void {
  registerWasmKernelOnce(SIGN_TIMES_KERNEL, signTimesKernel as unknown as tf.KernelFunc);
}

export const wasmSignTimes: SignTimesFn = (w, magnitude) => {
  const perWeight = typeof magnitude !== 'number';
  if (!simdModules() || w.dtype !== 'float32' || (perWeight && magnitude.size !== w.size))
    return stockSignTimes(w, magnitude);
  registerSignKernel();
  const inputs: tf.NamedTensorMap = perWeight ? { w, mag: magnitude } : { w };
  const attrs = { m: perWeight ? 0 : magnitude };
  return tf.engine().runKernel(SIGN_TIMES_KERNEL, inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
};
