/**
 * dW of a 2-D convolution (eq. 4 for conv layers: ΔW ∝ y_l δ_{l+1}ᵀ summed over the
 * positions each shared weight connects). NHWC input, HWIO filter, explicit symmetric
 * padding `pad` (PyTorch style), equal strides.
 */
import * as tf from '@tensorflow/tfjs-core';
import { opImplFor } from './registry.js';

declare module './registry.js' {
  interface OpImpls {
    conv2dFilterGrad: Conv2dFilterGradFn;
  }
}

export type FilterShape = [number, number, number, number];
export type Conv2dFilterGradFn = (
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  filterShape: FilterShape,
  stride: number,
  pad: number,
) => tf.Tensor4D;

/** tfjs's own Conv2DBackpropFilter kernel (cpu, webgpu, tensorflow backends). */
export const stockConv2dFilterGrad: Conv2dFilterGradFn = (x, dy, filterShape, stride, pad) =>
  tf
    .engine()
    .runKernel(
      'Conv2DBackpropFilter',
      { x, dy },
      { strides: [stride, stride], pad, dataFormat: 'NHWC', filterShape },
    ) as tf.Tensor4D;

export function conv2dFilterGrad(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  filterShape: FilterShape,
  stride: number,
  pad: number,
): tf.Tensor4D {
  const impl = opImplFor('conv2dFilterGrad') ?? stockConv2dFilterGrad;
  return impl(x, dy, filterShape, stride, pad);
}
