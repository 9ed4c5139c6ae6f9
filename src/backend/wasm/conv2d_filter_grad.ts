/**
 * Conv2DBackpropFilter for the wasm backend, which has no such kernel: our SIMD kernel
 * (simd/conv2d.ts, ~2-3x faster) where the output channels fit its tile. Otherwise:
 *   dW[i, j, c, o] = Σ_{n,h,w} xpad[n, h·s + i, w·s + j, c] · dy[n, h, w, o]
 * is itself a convolution once the roles are swapped: take the channels C as the
 * batch and the examples N as the input channels, x → X[c, H, W, n]; use dy as the
 * filter F[h, w, n, o]; then dW = conv(X, F, dilation s) read as [C, kh, kw, O].
 * That runs on XNNPACK's Conv2D, measured ~3x faster here than im2col + matmul
 * (wasm's Slice/Pad copy at ~1 GB/s, and its transposed matmul is slow).
 * Pointwise stride-1 convs are a single [C, NHW]·[NHW, O] matrix product.
 * The permutes run on our SIMD kernels (simd/permute.ts; tfjs's wasm Transpose is a
 * per-element loop).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Conv2dFilterGradFn } from '../ops/conv2d_filter_grad.js';
import { simdConv2dFilterGrad } from './simd/conv2d.js';
import { fastTranspose } from './simd/permute.js';

export const wasmConv2dFilterGrad: Conv2dFilterGradFn = (x, dy, filterShape, stride, pad) =>
  simdConv2dFilterGrad(x, dy, filterShape, stride, pad) ?? xnnpackFilterGrad(x, dy, filterShape, stride, pad);

/** The role-swapped XNNPACK convolution (any channel counts). */
const xnnpackFilterGrad: Conv2dFilterGradFn = (x, dy, filterShape, stride, pad) =>
  tf.tidy(() => {
    const [kh, kw, ci, co] = filterShape;
    const [n, h, w] = x.shape;
    const [ho, wo] = [dy.shape[1], dy.shape[2]];
    if (kh === 1 && kw === 1 && stride === 1 && pad === 0) {
      const xc = tf.reshape(fastTranspose(x, [3, 0, 1, 2]), [ci, n * h * w]);
      return tf.reshape(tf.matMul(xc, tf.reshape(dy, [n * ho * wo, co])), filterShape);
    }
    // Padded rows/columns past the last window the forward conv read are not padded.
    const restH = h + 2 * pad - kh - (ho - 1) * stride;
    const restW = w + 2 * pad - kw - (wo - 1) * stride;
    const xs = fastTranspose(x, [3, 1, 2, 0]); // [C, H, W, N]
    const pads: [[number, number], [number, number], [number, number], [number, number]] = [
      [0, 0],
      [pad, Math.max(0, pad - restH)],
      [pad, Math.max(0, pad - restW)],
      [0, 0],
    ];
    const f = fastTranspose(dy, [1, 2, 0, 3]); // [Ho, Wo, N, O]
    const out = tf.conv2d(xs, f, 1, pads, 'NHWC', stride); // [C, kh, kw, O]
    // Unread input rows beyond the padding give extra output rows: drop them (cheap, the output is small).
    const kept =
      out.shape[1] === kh && out.shape[2] === kw ? out : tf.slice(out, [0, 0, 0, 0], [ci, kh, kw, co]);
    return fastTranspose(kept, [1, 2, 0, 3]);
  });
