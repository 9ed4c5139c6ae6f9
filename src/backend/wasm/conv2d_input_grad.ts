/**
 * Conv2DBackpropInput for the wasm backend (its stock kernel is a naive loop, ~10x
 * slower than Conv2D). The input gradient of a convolution is itself a convolution:
 * dy, dilated by the stride (zeros between rows/columns), convolved at stride 1 with
 * the kernel rotated 180° and with input/output channels swapped:
 *   dx = conv2d(pad(dilate(dy)), rot180(K)ᵀ, stride 1)
 * It runs on our SIMD convolution (simd/conv2d.ts) where the channels fit its tile,
 * else on XNNPACK's Conv2D.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Conv2dInputGradFn } from '../ops/conv2d_input_grad.js';
import { simdConv2dInputGrad, swapFilterIo } from './simd/conv2d.js';

export const wasmConv2dInputGrad: Conv2dInputGradFn = (dy, filter, xShape, stride, pad) =>
  simdConv2dInputGrad(dy, filter, xShape, stride, pad) ?? xnnpackInputGrad(dy, filter, xShape, stride, pad);

const xnnpackInputGrad: Conv2dInputGradFn = (dy, filter, xShape, stride, pad) =>
  tf.tidy(() => {
    const [kh, kw, ci, co] = filter.shape;
    const [n, h, w] = xShape;
    const [ho, wo] = [dy.shape[1], dy.shape[2]];
    if (kh === 1 && kw === 1 && pad === 0 && stride === 1) {
      // Pointwise: a plain matrix product with the kernel transposed.
      return tf.reshape(
        tf.matMul(tf.reshape(dy, [n * ho * wo, co]), tf.reshape(filter, [ci, co]), false, true),
        xShape,
      );
    }
    // Rows of x the forward conv never read at the bottom/right (when (h + 2p - k) % s ≠ 0).
    const restH = h + 2 * pad - kh - (ho - 1) * stride;
    const restW = w + 2 * pad - kw - (wo - 1) * stride;
    const [ph, pw] = [kh - 1 - pad, kw - 1 - pad];
    // Zero rows/columns still needed below/right of the dilated dy (after its own s−1 trailing zeros).
    let padBottom = ph + restH - (stride - 1);
    let padRight = pw + restW - (stride - 1);
    let d: tf.Tensor4D = dy;
    if (stride > 1) {
      const s = stride;
      // Dilate: [n, ho, 1, wo, 1, c] padded to [n, ho, s, wo, s, c] puts s−1 zeros after every row/column.
      const holes = tf.pad(tf.reshape(dy, [n, ho, 1, wo, 1, co]), [
        [0, 0],
        [0, 0],
        [0, s - 1],
        [0, 0],
        [0, s - 1],
        [0, 0],
      ]);
      d = tf.reshape(holes, [n, ho * s, wo * s, co]);
      if (padBottom < 0 || padRight < 0) {
        // Odd geometry: drop the surplus trailing zeros (a slow copy on wasm, rare in ResNets).
        d = tf.slice(
          d,
          [0, 0, 0, 0],
          [n, ho * s + Math.min(0, padBottom), wo * s + Math.min(0, padRight), co],
        );
        padBottom = Math.max(0, padBottom);
        padRight = Math.max(0, padRight);
      }
    } else {
      padBottom = ph + restH;
      padRight = pw + restW;
    }
    const rotated = swapFilterIo(filter, true);
    const pads: [[number, number], [number, number], [number, number], [number, number]] = [
      [0, 0],
      [ph, padBottom],
      [pw, padRight],
      [0, 0],
    ];
    return tf.conv2d(d, rotated, 1, pads);
  });
