/**
 * Conv2DBackpropFilter for the wasm backend, which has no such kernel.
 *   dW[i, j, c, o] = Σ_{n,h,w} xpad[n, h·s + i, w·s + j, c] · dy[n, h, w, o]
 * is itself a convolution once the roles are swapped: take the channels C as the
 * batch and the examples N as the input channels, x → X[c, H, W, n]; use dy as the
 * filter F[h, w, n, o]; then dW = conv(X, F, dilation s) read as [C, kh, kw, O].
 * That runs on XNNPACK's Conv2D, measured ~3x faster here than im2col + matmul
 * (wasm's Slice/Pad copy at ~1 GB/s, and its transposed matmul is slow).
 * Pointwise stride-1 convs are a single [C, NHW]·[NHW, O] matrix product.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Conv2dFilterGradFn } from '../ops/conv2d_filter_grad.js';

export const wasmConv2dFilterGrad: Conv2dFilterGradFn = (x, dy, filterShape, stride, pad) =>
  tf.tidy(() => {
    const [kh, kw, ci, co] = filterShape;
    const [n, h, w] = x.shape;
    const [ho, wo] = [dy.shape[1], dy.shape[2]];
    if (kh === 1 && kw === 1 && stride === 1 && pad === 0) {
      const xc = tf.reshape(tf.transpose(x, [3, 0, 1, 2]), [ci, n * h * w]);
      return tf.reshape(tf.matMul(xc, tf.reshape(dy, [n * ho * wo, co])), filterShape);
    }
    // Padded rows/columns past the last window the forward conv read are not padded.
    const restH = h + 2 * pad - kh - (ho - 1) * stride;
    const restW = w + 2 * pad - kw - (wo - 1) * stride;
    const xs = tf.transpose(x, [3, 1, 2, 0]) as tf.Tensor4D; // [C, H, W, N]
    const pads: [[number, number], [number, number], [number, number], [number, number]] = [
      [0, 0],
      [pad, Math.max(0, pad - restH)],
      [pad, Math.max(0, pad - restW)],
      [0, 0],
    ];
    const f = tf.transpose(dy, [1, 2, 0, 3]) as tf.Tensor4D; // [Ho, Wo, N, O]
    const out = tf.conv2d(xs, f, 1, pads, 'NHWC', stride); // [C, kh, kw, O]
    // Unread input rows beyond the padding give extra output rows: drop them (cheap, the output is small).
    const kept =
      out.shape[1] === kh && out.shape[2] === kw ? out : tf.slice(out, [0, 0, 0, 0], [ci, kh, kw, co]);
    return tf.transpose(kept, [1, 2, 0, 3]);
  });
