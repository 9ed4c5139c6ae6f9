/**
 * Forward convolution on the wasm backend: our SIMD kernel (simd/conv2d.ts) where the
 * output channels fit its tile, else tfjs's XNNPACK Conv2D.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Conv2dFn } from '../ops/conv2d.js';
import { simdConv2d } from './simd/conv2d.js';

export const wasmConv2d: Conv2dFn = (x, filter, stride, pad) =>
  simdConv2d(x, filter, stride, pad) ?? tf.conv2d(x, filter, stride, pad);
