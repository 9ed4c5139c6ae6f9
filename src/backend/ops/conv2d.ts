/**
 * Forward 2-D convolution y = conv(x, W) (NHWC input, HWIO filter, symmetric padding
 * `pad`, equal strides), routed through the registry so a backend can replace it
 * (wasm with threads splits the batch across threads).
 */
import * as tf from '@tensorflow/tfjs-core';
import { opImplFor } from './registry.js';

declare module './registry.js' {
  interface OpImpls {
    conv2d: Conv2dFn;
  }
}

/** Output size along one axis of a k-wide window at `stride` over `size` padded by `pad` on each side. */
export const convOutSize = (size: number, k: number, stride: number, pad: number) =>
  Math.floor((size + 2 * pad - k) / stride) + 1;

export type Conv2dFn = (x: tf.Tensor4D, filter: tf.Tensor4D, stride: number, pad: number) => tf.Tensor4D;

export const stockConv2d: Conv2dFn = (x, filter, stride, pad) => tf.conv2d(x, filter, stride, pad);

export const conv2d: Conv2dFn = (...args) => (opImplFor('conv2d') ?? stockConv2d)(...args);
