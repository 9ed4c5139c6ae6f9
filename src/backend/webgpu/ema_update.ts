/**
 * Op `emaUpdate` (src/backend/ops/ema_update.ts) in one dispatch: BatchNorm's running
 * statistics cost 7 tf ops and 5 scalar uploads per layer and step with the stock ops.
 * The factors are rounded to f32 as tf.mul's scalars are, in the same order.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { EmaUpdateFn } from '../ops/ema_update.js';
import { ElementwiseProgram, runElementwise } from './elementwise.js';
import { type KernelArgs, registerWebgpuKernel } from './program.js';

export const EMA_KERNEL = 'WtrainEmaUpdate';

interface EmaAttrs {
  momentum: number;
  scale: number;
}

function emaKernel({ inputs, backend, attrs }: KernelArgs<'target' | 'value', EmaAttrs>): tf.TensorInfo {
  const { target, value } = inputs;
  const program = new ElementwiseProgram(
    'wtrainEma',
    ['running', 'value'], // 'target' is a WGSL keyword
    'running[index] * uniforms.keep + (value[index] * uniforms.scale) * uniforms.take',
    tf.util.sizeFromShape(target.shape),
    'keep : f32, take : f32, scale : f32,',
  );
  return runElementwise(backend, program, [target, value], target.shape, [
    { type: 'float32', data: [attrs.momentum] },
    { type: 'float32', data: [1 - attrs.momentum] },
    { type: 'float32', data: [attrs.scale] },
  ]);
}

export function registerEmaKernel(): void {
  registerWebgpuKernel(EMA_KERNEL, emaKernel);
}

export const webgpuEmaUpdate: EmaUpdateFn = (target, value, momentum, scale) => {
  tf.tidy(() => {
    const attrs = { momentum, scale } as unknown as tf.NamedAttrMap;
    target.assign(tf.engine().runKernel(EMA_KERNEL, { target, value }, attrs) as tf.Tensor);
  });
};
