/**
 * ReLU's backward on the wasm backend in one pass (relu.wat; see ops/relu_grad.ts), and
 * WM's centred mirror output relu(z) − batch mean in two (ops/centred_relu.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import { type CentredReluFn, stockCentredRelu } from '../../ops/centred_relu.js';
import { type ReluGradFn, stockReluGrad } from '../../ops/relu_grad.js';
import { simdKernel } from './kernel.js';

/** inputs dy, y → dy where y > 0, else 0. */
const reluGradKernel = simdKernel<'dy' | 'y'>('WtrainReluGrad', ({ mods, at, output }, { dy, y }) => {
  const dx = output(dy.shape);
  mods.relu.relu_grad(at(dy), at(y), at(dx), tf.util.sizeFromShape(dy.shape));
  return dx;
});

export const wasmReluGrad: ReluGradFn = (dy, y) =>
  (dy.size === y.size ? reluGradKernel.run({ dy, y }, {})?.[0] : null) ?? stockReluGrad(dy, y);

/** input z [rows, …] → relu(z) − its mean over rows. */
const centredReluKernel = simdKernel<'z'>('WtrainCentredRelu', ({ mods, at, output }, { z }) => {
  const out = output(z.shape);
  const rows = z.shape[0];
  mods.relu.relu_centre(at(z), at(out), rows, tf.util.sizeFromShape(z.shape) / rows);
  return out;
});

/** Features per row in fours (every conv layer's [n, h, w, c] with c % 4 == 0), else tf ops. */
export const wasmCentredRelu: CentredReluFn = (z) =>
  (z.rank > 1 && (z.size / z.shape[0]) % 4 === 0 ? centredReluKernel.run({ z }, {})?.[0] : null) ??
  stockCentredRelu(z);
