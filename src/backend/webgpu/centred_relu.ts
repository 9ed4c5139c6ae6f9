/**
 * Op `centredRelu` (WM's y − ȳ, y = ReLU(z), ȳ the mean over the mirror batch) in two
 * dispatches instead of ~6 tf ops: the per-feature means of ReLU(z) (one thread per
 * feature, over the batch rows), then ReLU(z) − ȳ.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { CentredReluFn } from '../ops/centred_relu.js';
import { ElementwiseProgram, runElementwise } from './elementwise.js';
import { type KernelArgs, registerWebgpuKernel } from './program.js';

export const CENTRED_RELU_KERNEL = 'WtrainCentredRelu';

function centredReluKernel({ inputs, backend }: KernelArgs<'z', Record<string, never>>): tf.TensorInfo {
  const { z } = inputs;
  const rows = z.shape[0];
  const size = tf.util.sizeFromShape(z.shape);
  const feats = size / rows;
  // mean[f] = Σ_r ReLU(z[r·F + f]) / rows, one thread per feature
  const columnMean = new ElementwiseProgram(
    'wtrainReluColumnMean',
    ['z'],
    'acc / f32(uniforms.rows)',
    feats,
    'rows : i32,',
    `var acc = 0.0;
          for (var r = 0; r < uniforms.rows; r = r + 1) {
            acc = acc + max(z[r * uniforms.size + index], 0.0);
          }`,
  );
  const mean = runElementwise(backend, columnMean, [z], [feats], [{ type: 'int32', data: [rows] }]);
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
