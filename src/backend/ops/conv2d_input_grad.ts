/**
 * dx of a 2-D convolution given the kernel the backward pass uses. Under a learning
 * rule this kernel is the feedback kernel B (eq. 3: δ_l = φ'(y_l) B δ_{l+1}); under
 * backprop it is W. NHWC, HWIO, explicit symmetric padding, equal strides.
 */
import * as tf from '@tensorflow/tfjs-core';
import { opImplFor } from './registry.js';

declare module './registry.js' {
  interface OpImpls {
    conv2dInputGrad: Conv2dInputGradFn;
  }
}

export type Conv2dInputGradFn = (
  dy: tf.Tensor4D,
  filter: tf.Tensor4D,
  xShape: [number, number, number, number],
  stride: number,
  pad: number,
) => tf.Tensor4D;

/** tfjs's own Conv2DBackpropInput kernel. */
export const stockConv2dInputGrad: Conv2dInputGradFn = (dy, filter, xShape, stride, pad) =>
  tf
    .engine()
    .runKernel(
      'Conv2DBackpropInput',
      { dy, filter },
      { strides: [stride, stride], pad, dataFormat: 'NHWC', inputShape: xShape },
    ) as tf.Tensor4D;

export function conv2dInputGrad(
  dy: tf.Tensor4D,
  filter: tf.Tensor4D,
  xShape: [number, number, number, number],
  stride: number,
  pad: number,
): tf.Tensor4D {
  const impl = opImplFor('conv2dInputGrad') ?? stockConv2dInputGrad;
  return impl(dy, filter, xShape, stride, pad);
}
