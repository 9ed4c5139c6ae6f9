/** ReLU's backward on the wasm backend in one pass (relu_grad.wat); see ops/relu_grad.ts. */
import * as tf from '@tensorflow/tfjs-core';
import { type ReluGradFn, stockReluGrad } from '../../ops/relu_grad.js';
import {
  heapOffset,
  registerWasmKernelOnce,
  type SimdModules,
  simdModules,
  type WasmBackend,
} from './index.js';

export const RELU_GRAD_KERNEL = 'WtrainReluGrad';

/** inputs dy, y → dy where y > 0, else 0. */
function reluGradKernel({
  inputs: { dy, y },
  backend,
}: {
  inputs: { dy: tf.TensorInfo; y: tf.TensorInfo };
  backend: tf.KernelBackend;
}): tf.TensorInfo {
  const b = backend as unknown as WasmBackend;
  const { reluGrad } = simdModules(b) as SimdModules;
  const dx = b.makeOutput(dy.shape, 'float32');
  reluGrad.relu_grad(heapOffset(b, dy), heapOffset(b, y), heapOffset(b, dx), tf.util.sizeFromShape(dy.shape));
  return dx;
}

export function registerReluGradKernel(): void {
  registerWasmKernelOnce(RELU_GRAD_KERNEL, reluGradKernel as unknown as tf.KernelFunc);
}

export const wasmReluGrad: ReluGradFn = (dy, y) => {
  if (!simdModules() || dy.dtype !== 'float32' || y.dtype !== 'float32' || dy.size !== y.size)
    return stockReluGrad(dy, y);
  registerReluGradKernel();
  return tf.engine().runKernel(RELU_GRAD_KERNEL, { dy, y }) as tf.Tensor;
};
