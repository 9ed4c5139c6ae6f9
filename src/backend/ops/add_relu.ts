/**
 * ReLU(a + b): a residual block's output (the sum with the shortcut goes through a
 * ReLU). webgpu registers a one-dispatch kernel; elsewhere it is Add then Relu.
 */
import * as tf from '@tensorflow/tfjs-core';
import { opImplFor } from './registry.js';

declare module './registry.js' {
  interface OpImpls {
    addRelu: AddReluFn;
  }
}

export type AddReluFn = (a: tf.Tensor, b: tf.Tensor) => tf.Tensor;

export const stockAddRelu: AddReluFn = (a, b) => tf.tidy(() => tf.relu(tf.add(a, b)));

export const addRelu: AddReluFn = (a, b) => (opImplFor('addRelu') ?? stockAddRelu)(a, b);
