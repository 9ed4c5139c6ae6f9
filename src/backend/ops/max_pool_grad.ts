/**
 * Max pooling's backward (the ImageNet stem's 3x3/2 pool): δ_out goes to the input
 * that was the window's maximum (the first one in row-major order on ties, as tfjs's
 * cpu kernel). wasm registers a SIMD kernel; elsewhere tfjs's MaxPoolGrad.
 */
import * as tf from '@tensorflow/tfjs-core';
import { opImplFor } from './registry.js';

declare module './registry.js' {
  interface OpImpls {
    maxPoolGrad: MaxPoolGradFn;
  }
}

export interface MaxPoolAttrs {
  filterSize: number;
  strides: number;
  pad: number;
}
export type MaxPoolGradFn = (dy: tf.Tensor4D, x: tf.Tensor4D, y: tf.Tensor4D, a: MaxPoolAttrs) => tf.Tensor4D;

export const stockMaxPoolGrad: MaxPoolGradFn = (dy, input, output, attrs) =>
  tf
    .engine()
    .runKernel('MaxPoolGrad', { dy, input, output }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor4D;

export const maxPoolGrad: MaxPoolGradFn = (...args) =>
  (opImplFor('maxPoolGrad') ?? stockMaxPoolGrad)(...args);
