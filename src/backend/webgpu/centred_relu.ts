/**
 * Op `centredRelu` (WM's y − ȳ, y = ReLU(z), ȳ the mean over the mirror batch) in two
 * dispatches instead of ~6 tf ops: the per-feature means of ReLU(z) (one thread per
 * feature, over the batch rows), then ReLU(z) − ȳ.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { CentredReluFn } from '../ops/centred_relu.js';
import { ElementwiseProgram, runElementwise } from './elementwise.js';
import { flatDispatch, type KernelArgs, registerWebgpuKernel, type WebGPUProgram } from './program.js';

export const CENTRED_RELU_KERNEL = 'WtrainCentredRelu';

/** mean[f] = Σ_r ReLU(z[r·F + f]) / rows. */
class ReluColumnMeanProgram implements WebGPUProgram {
  variableNames = ['z'];
  uniforms = 'rows : i32,';
  outputShape: number[];
  shaderKey = 'wtrainReluColumnMean';
  dispatchLayout = { x: [0] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number] = [64, 1, 1];
  size = true;

  constructor(feats: number) {
    this.outputShape = [feats];
    this.dispatch = flatDispatch(feats, 64);
  }

  getUserCode(): string {
    return `
      fn main(index : i32) {
        if (index < uniforms.size) {
          var acc = 0.0;
          for (var r = 0; r < uniforms.rows; r = r + 1) {
            acc = acc + max(z[r * uniforms.size + index], 0.0);
          }
          result[index] = acc / f32(uniforms.rows);
        }
      }`;
  }
}

function centredReluKernel({ inputs, backend }: KernelArgs<'z', Record<string, never>>): tf.TensorInfo {
  const { z } = inputs;
  const rows = z.shape[0];
  const size = tf.util.sizeFromShape(z.shape);
  const feats = size / rows;
  const flatZ = { ...z, shape: [size] };
  const mean = backend.runWebGPUProgram(new ReluColumnMeanProgram(feats), [flatZ], 'float32', [
    { type: 'int32', data: [rows] },
  ]);
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
