/**
 * One SGD step of a parameter on the wasm backend in one pass (sgd.wat) instead of
 * tfjs's ~7 elementwise ops; the same arithmetic, rounded the same way, as
 * stockSgdUpdate (src/backend/ops/sgd_update.ts, PyTorch's semantics). New tensors
 * are written and assigned (a variable may share its data with another tensor).
 */
import * as tf from '@tensorflow/tfjs-core';
import { type SgdUpdateFn, stockSgdUpdate } from '../../ops/sgd_update.js';
import {
  heapOffset,
  registerWasmKernelOnce,
  type SimdModules,
  simdModules,
  type WasmBackend,
} from './index.js';

export const SGD_KERNEL = 'WtrainSgdStep';

interface SgdAttrs {
  lr: number;
  mu: number;
  decay: number;
  nesterov: boolean;
}

/** inputs p, g[, v] → [p'] or [p', v']. */
function sgdKernel({
  inputs,
  backend,
  attrs: a,
}: {
  inputs: { p: tf.TensorInfo; g: tf.TensorInfo; v?: tf.TensorInfo };
  backend: tf.KernelBackend;
  attrs: SgdAttrs;
}): tf.TensorInfo[] {
  const b = backend as unknown as WasmBackend;
  const { sgd } = simdModules(b) as SimdModules;
  const { p, g, v } = inputs;
  const at = (t: tf.TensorInfo) => heapOffset(b, t);
  const pOut = b.makeOutput(p.shape, 'float32');
  const vOut = v ? b.makeOutput(p.shape, 'float32') : null;
  const n = tf.util.sizeFromShape(p.shape);
  const [vIn, vTo] = v && vOut ? [at(v), at(vOut)] : [0, 0];
  sgd.sgd_step(at(p), at(g), vIn, at(pOut), vTo, n, a.lr, a.mu, a.decay, a.nesterov ? 1 : 0, v ? 0 : 1);
  return vOut ? [pOut, vOut] : [pOut];
}

export function registerSgdKernel(): void {
  registerWasmKernelOnce(SGD_KERNEL, sgdKernel as unknown as tf.KernelFunc);
}

export const wasmSgdUpdate: SgdUpdateFn = (param, grad, velocity, o) => {
  if (!simdModules() || param.dtype !== 'float32') return stockSgdUpdate(param, grad, velocity, o);
  registerSgdKernel();
  const withVelocity = velocity !== null && o.momentum > 0;
  const inputs: tf.NamedTensorMap = withVelocity ? { p: param, g: grad, v: velocity } : { p: param, g: grad };
  const attrs = { lr: o.lr, mu: o.momentum, decay: o.weightDecay, nesterov: o.nesterov };
  const [p, v] = tf
    .engine()
    .runKernel(SGD_KERNEL, inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
  param.assign(p);
  p.dispose();
  if (withVelocity) {
    velocity.assign(v);
    v.dispose();
  }
};
