/** ReLU's backward on the wasm backend in one pass (relu_grad.wat); see ops/relu_grad.ts. */
import * as tf from '@tensorflow/tfjs-core';
import { type ReluGradFn, stockReluGrad } from '../../ops/relu_grad.js';
import { simdKernel } from './kernel.js';

/** inputs dy, y → dy where y > 0, else 0. */
const reluGradKernel = simdKernel<'dy' | 'y'>('WtrainReluGrad', ({ mods, at, output }, { dy, y }) => {
  const dx = output(dy.shape);
  mods.reluGrad.relu_grad(at(dy), at(y), at(dx), tf.util.sizeFromShape(dy.shape));
  return dx;
});

export const wasmReluGrad: ReluGradFn = (dy, y) =>
  (dy.size === y.size ? reluGradKernel.run({ dy, y }, {})?.[0] : null) ?? stockReluGrad(dy, y);
