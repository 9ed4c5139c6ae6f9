/** Max pooling's backward on the wasm backend (max_pool_grad.wat); see ops/max_pool_grad.ts. */
import type * as tf from '@tensorflow/tfjs-core';
import { convOutSize } from '../../ops/conv2d.js';
import { type MaxPoolAttrs, type MaxPoolGradFn, stockMaxPoolGrad } from '../../ops/max_pool_grad.js';
import { simdKernel } from './kernel.js';

/** inputs dy, x, y (the pooled output) → dx of x's shape. */
const maxPoolGradKernel = simdKernel<'dy' | 'x' | 'y', MaxPoolAttrs>(
  'WtrainMaxPoolGrad',
  ({ mods, at, output }, { dy, x, y }, a) => {
    const [n, h, w, c] = x.shape;
    const dx = output(x.shape);
    mods.maxPoolGrad.max_pool_grad(
      at(x),
      at(y),
      at(dy),
      at(dx),
      n,
      h,
      w,
      c,
      y.shape[1],
      y.shape[2],
      a.filterSize,
      a.strides,
      a.pad,
    );
    return dx;
  },
);

/**
 * Where y has the shape this pool gives (symmetric padding), else tfjs's kernel (which
 * disagrees with cpu on some shapes in tfjs 4.22: 2x2 windows, 3 channels).
 */
export const wasmMaxPoolGrad: MaxPoolGradFn = (dy, x, y, a) => {
  const out = (size: number) => convOutSize(size, a.filterSize, a.strides, a.pad);
  const fits = y.shape[1] === out(x.shape[1]) && y.shape[2] === out(x.shape[2]) && dy.size === y.size;
  return (
    ((fits ? maxPoolGradKernel.run({ dy, x, y }, a)?.[0] : null) as tf.Tensor4D | null) ??
    stockMaxPoolGrad(dy, x, y, a)
  );
};
