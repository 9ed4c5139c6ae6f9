/**
 * Op `signTimes` (sign-symmetry's B = sign(W) ⊙ M) in one dispatch: M a number (a
 * uniform, no scalar upload) or a tensor of W's shape. Other shapes take the tf ops.
 */
import * as tf from '@tensorflow/tfjs-core';
import { type SignTimesFn, stockSignTimes } from '../ops/sign_times.js';
import { ElementwiseProgram, runElementwise } from './elementwise.js';
import { type KernelArgs, registerWebgpuKernel } from './program.js';

export const SIGN_TIMES_KERNEL = 'WtrainSignTimes';

function signTimesKernel({
  inputs,
  backend,
  attrs,
}: KernelArgs<'w' | 'm', { magnitude: number | null }>): tf.TensorInfo {
  const { w, m } = inputs;
  const size = tf.util.sizeFromShape(w.shape);
  if (attrs.magnitude !== null) {
    const program = new ElementwiseProgram(
      'wtrainSignTimesScalar',
      ['w'],
      'sign(w[index]) * uniforms.m',
      size,
      'm : f32,',
    );
    return runElementwise(backend, program, [w], w.shape, [{ type: 'float32', data: [attrs.magnitude] }]);
  }
  const program = new ElementwiseProgram('wtrainSignTimes', ['w', 'm'], 'sign(w[index]) * m[index]', size);
  return runElementwise(backend, program, [w, m], w.shape);
}

export function registerSignTimesKernel(): void {
  registerWebgpuKernel(SIGN_TIMES_KERNEL, signTimesKernel);
}

export const webgpuSignTimes: SignTimesFn = (w, magnitude) => {
  if (w.dtype !== 'float32') return stockSignTimes(w, magnitude);
  if (typeof magnitude === 'number') {
    return tf.engine().runKernel(SIGN_TIMES_KERNEL, { w }, { magnitude }) as tf.Tensor;
  }
  if (magnitude.size !== w.size || magnitude.dtype !== 'float32') return stockSignTimes(w, magnitude);
  return tf.engine().runKernel(SIGN_TIMES_KERNEL, { w, m: magnitude }, {
    magnitude: null,
  } as unknown as tf.NamedAttrMap) as tf.Tensor;
};
