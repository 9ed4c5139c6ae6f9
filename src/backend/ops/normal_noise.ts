/**
 * Op `normalNoise`: a tensor of N(0, std²) samples whose element n is a pure function
 * of (seed, n) (src/util/ziggurat.ts), the same numbers on every backend. cpu and wasm
 * draw them on the host and upload; webgpu draws them on the device.
 */
import * as tf from '@tensorflow/tfjs-core';
import { fastNormalArray } from '../../util/ziggurat.js';
import { opImplFor } from './registry.js';

declare module './registry.js' {
  interface OpImpls {
    normalNoise: NormalNoiseFn;
  }
}

export type NormalNoiseFn = (shape: number[], seed: number, std: number) => tf.Tensor;

export const hostNormalNoise: NormalNoiseFn = (shape, seed, std) =>
  tf.tensor(fastNormalArray(tf.util.sizeFromShape(shape), seed, std), shape);

export const normalNoise = (shape: number[], seed: number, std = 1): tf.Tensor =>
  (opImplFor('normalNoise') ?? hostNormalNoise)(shape, seed, std);
