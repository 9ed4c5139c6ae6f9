/**
 * Op `reluGrad` (src/backend/ops/relu_grad.ts) in one dispatch instead of Step and
 * Multiply: dx = y > 0 ? dy : 0, as the wasm kernel selects it. And op `addRelu`
 * (src/backend/ops/add_relu.ts), ReLU(a + b), in one dispatch instead of Add and Relu.
 */
import * as tf from '@tensorflow/tfjs-core';
import { type AddReluFn, stockAddRelu } from '../ops/add_relu.js';
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

export const ADD_RELU_KERNEL = 'WtrainAddRelu';

function addReluKernel({ inputs, backend }: KernelArgs<'a' | 'b', Record<string, never>>): tf.TensorInfo {
  const { a, b } = inputs;
  const size = tf.util.sizeFromShape(a.shape);
  const program = new ElementwiseProgram('wtrainAddRelu', ['a', 'b'], 'max(a[index] + b[index], 0.0)', size);
  return runElementwise(backend, program, [a, b], a.shape);
}

export function registerReluGradKernel(): void {
  registerWebgpuKernel(RELU_GRAD_KERNEL, reluGradKernel);
  registerWebgpuKernel(ADD_RELU_KERNEL, addReluKernel);
}

export const webgpuReluGrad: ReluGradFn = (dy, y) =>
  dy.size === y.size && dy.dtype === 'float32'
    ? (tf.engine().runKernel(RELU_GRAD_KERNEL, { dy, y }, {}) as tf.Tensor)
    : stockReluGrad(dy, y);

export const webgpuAddRelu: AddReluFn = (a, b) =>
  a.size === b.size && a.dtype === 'float32' && b.dtype === 'float32'
    ? (tf.engine().runKernel(ADD_RELU_KERNEL, { a, b }, {}) as tf.Tensor)
    : stockAddRelu(a, b);
