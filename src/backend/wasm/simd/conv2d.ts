/**
 * The three convolutions of a training step on conv2d.wat (see it for the loops):
 *   forward      y = conv(x, W)                       (pad_dilate, then conv2d_valid)
 *   input grad   δ_in = conv(dilate_s(δ_out) padded, rot180(F)ᵀ)   (eq. 3; F = the rule's kernel)
 *   filter grad  ΔW = Σ x ⋆ δ_out                     (eq. 4; padding handled in place)
 * Each returns null where its kernel does not apply (channel counts not multiples of
 * its tile, no SIMD modules) and the caller uses its XNNPACK route.
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  heapOffset,
  registerWasmKernelOnce,
  type SimdModules,
  simdModules,
  type WasmBackend,
} from './index.js';

export const CONV_KERNEL = 'WtrainConv2D';
export const PAD_DILATE_KERNEL = 'WtrainPadDilate';
export const FILTER_GRAD_KERNEL = 'WtrainConv2DFilterGrad';

type Shape4 = [number, number, number, number];

interface KernelArgs<I extends string, A> {
  inputs: Record<I, tf.TensorInfo>;
  backend: tf.KernelBackend;
  attrs: A;
}

function bind(backend: tf.KernelBackend) {
  const b = backend as unknown as WasmBackend;
  return { b, conv: (simdModules(b) as SimdModules).conv, at: (t: tf.TensorInfo) => heapOffset(b, t) };
}

/** inputs x (already padded), filter; attrs stride → valid convolution. */
function convKernel({
  inputs: { x, filter },
  backend,
  attrs: { stride },
}: KernelArgs<'x' | 'filter', { stride: number }>) {
  const { b, conv, at } = bind(backend);
  const [n, h, w, c] = x.shape;
  const [kh, kw, , o] = filter.shape;
  const [ho, wo] = [Math.floor((h - kh) / stride) + 1, Math.floor((w - kw) / stride) + 1];
  const y = b.makeOutput([n, ho, wo, o], 'float32');
  conv.conv2d_valid(at(x), at(filter), at(y), n, h, w, c, ho, wo, o, kh, kw, stride);
  return y;
}

interface PadAttrs {
  stride: number;
  top: number;
  left: number;
  height: number;
  width: number;
}

/** inputs x; attrs → [n, height, width, c] zeros with x's pixels at (top + ih·s, left + iw·s). */
function padDilateKernel({ inputs: { x }, backend, attrs: a }: KernelArgs<'x', PadAttrs>) {
  const { b, conv, at } = bind(backend);
  const [n, h, w, c] = x.shape;
  const out = b.makeOutput([n, a.height, a.width, c], 'float32');
  conv.pad_dilate(at(x), at(out), n, h, w, c, a.stride, a.top, a.left, a.height, a.width);
  return out;
}

interface FilterGradAttrs {
  filterShape: Shape4;
  stride: number;
  pad: number;
}

/** inputs x, dy; attrs → ΔW [kh, kw, C, O]. */
function filterGradKernel({ inputs: { x, dy }, backend, attrs: a }: KernelArgs<'x' | 'dy', FilterGradAttrs>) {
  const { b, conv, at } = bind(backend);
  const [n, h, w, c] = x.shape;
  const [, ho, wo, o] = dy.shape;
  const [kh, kw] = a.filterShape;
  const dW = b.makeOutput(a.filterShape, 'float32');
  conv.conv2d_filter_grad(at(x), at(dy), at(dW), n, h, w, c, ho, wo, o, kh, kw, a.stride, a.pad);
  return dW;
}

export function registerConvKernels(): void {
  registerWasmKernelOnce(CONV_KERNEL, convKernel as unknown as tf.KernelFunc);
  registerWasmKernelOnce(PAD_DILATE_KERNEL, padDilateKernel as unknown as tf.KernelFunc);
  registerWasmKernelOnce(FILTER_GRAD_KERNEL, filterGradKernel as unknown as tf.KernelFunc);
}

const run = <T extends tf.Tensor>(name: string, inputs: tf.NamedTensorMap, attrs: object): T =>
  tf.engine().runKernel(name, inputs, attrs as unknown as tf.NamedAttrMap) as T;

const ready = (): boolean => {
  if (!simdModules()) return false;
  registerConvKernels();
  return true;
};

/** zeros [n, height, width, c] with x's pixels placed at (top + ih·stride, left + iw·stride). */
export function padDilate(x: tf.Tensor4D, a: PadAttrs): tf.Tensor4D {
  return run<tf.Tensor4D>(PAD_DILATE_KERNEL, { x }, a);
}

/** Valid convolution of an already padded x; null when O is not a multiple of 8. */
export function simdConv2dValid(x: tf.Tensor4D, filter: tf.Tensor4D, stride: number): tf.Tensor4D | null {
  if (filter.shape[3] % 8 !== 0 || !ready()) return null;
  return run<tf.Tensor4D>(CONV_KERNEL, { x, filter }, { stride });
}

/** conv(x, filter) with symmetric zero padding `pad`; null when O is not a multiple of 8. */
export function simdConv2d(
  x: tf.Tensor4D,
  filter: tf.Tensor4D,
  stride: number,
  pad: number,
): tf.Tensor4D | null {
  if (filter.shape[3] % 8 !== 0 || !ready()) return null;
  if (pad === 0) return simdConv2dValid(x, filter, stride);
  const [, h, w] = x.shape;
  const padded = padDilate(x, { stride: 1, top: pad, left: pad, height: h + 2 * pad, width: w + 2 * pad });
  const y = simdConv2dValid(padded, filter, stride);
  padded.dispose();
  return y;
}

/** ΔW; null unless C % 4 == 0 and O % 8 == 0. */
export function simdConv2dFilterGrad(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  filterShape: Shape4,
  stride: number,
  pad: number,
): tf.Tensor4D | null {
  if (filterShape[2] % 4 !== 0 || filterShape[3] % 8 !== 0 || !ready()) return null;
  return run<tf.Tensor4D>(FILTER_GRAD_KERNEL, { x, dy }, { filterShape, stride, pad });
}

/**
 * δ_in for a conv with `filter` (HWIO): dy dilated by the stride and padded by k − 1 − p,
 * convolved at stride 1 with the kernel rotated 180° and its channels swapped. Null
 * unless C % 8 == 0 and p ≤ k − 1.
 */
export function simdConv2dInputGrad(
  dy: tf.Tensor4D,
  filter: tf.Tensor4D,
  xShape: Shape4,
  stride: number,
  pad: number,
): tf.Tensor4D | null {
  const [kh, kw, ci] = filter.shape;
  if (ci % 8 !== 0 || pad > kh - 1 || pad > kw - 1 || !ready()) return null;
  return tf.tidy(() => {
    const [, h, w] = xShape;
    // Output h = padded height − kh + 1; dy's last row lands at (kh−1−p) + (ho−1)·s ≤ h + kh − 2.
    const d = padDilate(dy, {
      stride,
      top: kh - 1 - pad,
      left: kw - 1 - pad,
      height: h + kh - 1,
      width: w + kw - 1,
    });
    const rotated = tf.transpose(tf.reverse(filter, [0, 1]), [0, 1, 3, 2]) as tf.Tensor4D;
    return simdConv2dValid(d, rotated, 1) as tf.Tensor4D;
  });
}
