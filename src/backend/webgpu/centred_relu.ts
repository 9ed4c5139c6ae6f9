/**
 * Op `centredRelu` (WM's y − ȳ, y = ReLU(z), ȳ the mean over the mirror batch) in two
 * dispatches instead of ~6 tf ops: the per-feature means of ReLU(z) (sum_rows.ts,
 * one thread per feature, over the batch rows), then ReLU(z) − ȳ.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { CentredReluFn } from '../ops/centred_relu.js';
import { ElementwiseProgram, runElementwise } from './elementwise.js';
import { type KernelArgs, registerWebgpuKernel } from './program.js';
import { sumRows } from './sum_rows.js';

export const CENTRED_RELU_KERNEL = 'WtrainCentredRelu';

function centredReluKernel({ inputs, backend }: KernelArgs<'z', Record<string, never>>): tf.TensorInfo {
  const { z } = inputs;
  const rows = z.shape[0];
  const size = tf.util.sizeFromShape(z.shape);
  const feats = size / rows;
  const mean = sumRows(backend, z, rows, [feats], { relu: true, mean: true });
  const program = new ElementwiseProgram(
    'wtrainCentredRelu',
    ['z', 'mean'],
    'max(z[index], 0.0) - mean[index % uniforms.feats]',
    size,
    'feats : i32,',
  );
  const out = runElementwise(backend, program, [z, mean], z.shape, [{ type: 'int32', data: [feats] }]);
  backend.disposeData(mean.dataId);
  return out;
}

export function registerCentredReluKernel(): void {
  registerWebgpuKernel(CENTRED_RELU_KERNEL, centredReluKernel);
}

export const webgpuCentredRelu: CentredReluFn = (z) =>
  tf.engine().runKernel(CENTRED_RELU_KERNEL, { z }, {}) as tf.Tensor;
