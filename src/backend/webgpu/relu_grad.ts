/**
 * Op `reluGrad` (src/backend/ops/relu_grad.ts) in one dispatch instead of Step and
 * Multiply: dx = y > 0 ? dy : 0, as the wasm kernel selects it.
 */
import * as tf from '@tensorflow/tfjs-core';
import { type ReluGradFn, stockReluGrad } from '../ops/relu_grad.js';
import { ElementwiseProgram, runElementwise } from './elementwise.js';
import { type KernelArgs, registerWebgpuKernel } from './program.js';

export const RELU_GRAD_KERNEL = 'WtrainReluGrad';

function reluGradKernel({ inputs, backend }: KernelArgs<'dy' | 'y', Record<string, never>>): tf.TensorInfo {
  const { dy, y } = inputs;
  const program = new ElementwiseProgram(
    'wtrainReluGrad',
    ['dy', 'y'],
    'select(0.0, dy[index], y[index] > 0.0)',
    tf.util.sizeFromShape(dy.shape),
  );
  return runElementwise(backend, program, [dy, y], dy.shape);
}

export function registerReluGradKernel(): void {
  registerWebgpuKernel(RELU_GRAD_KERNEL, reluGradKernel);
}

export const webgpuReluGrad: ReluGradFn = (dy, y) =>
  dy.size === y.size && dy.dtype === 'float32'
    ? (tf.engine().runKernel(RELU_GRAD_KERNEL, { dy, y }, {}) as tf.Tensor)
    : stockReluGrad(dy, y);
