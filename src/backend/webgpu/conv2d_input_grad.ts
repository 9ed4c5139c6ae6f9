/**
 * dx of a convolution on webgpu: tfjs-backend-webgpu has two programs and picks one by a
 * global flag (WEBGPU_USE_NAIVE_CONV2D_TRANSPOSE). Its tiled matmul program
 * (Conv2DDerInputMMProgram) multiplies, per image, an [H·W, k·k·C_out] im2col of dy by
 * the filter in 32×32 tiles; the naive one (Conv2DDerInputProgram) gives each dx element
 * a thread that loops over the taps that land on it. Measured per layer on an H100
 * (docs/gpu.md, bench-gpu's conv kernel tables):
 *  - the matmul wins on layers with a large H·W;
 *  - it loses, by up to 5x, where x's H·W per image is below 16: a tile's 32 rows are
 *    rows of one image, so fewer than half hold data (ResNet-18's last stages at 32 px);
 *  - at stride 2 with a k×k filter (k > 1) it also multiplies the taps that fall between
 *    dy's samples (3/4 of them at 3×3): there the naive program won 5 of 7 layers.
 * `auto-strided` picks by both rules; the flag is set for the call and put back after
 * it. (`auto`, the first rule alone, is retired: docs/gpu.md, "Retired alternatives".)
 */
import * as tf from '@tensorflow/tfjs-core';
import { type Conv2dInputGradFn, stockConv2dInputGrad } from '../ops/conv2d_input_grad.js';

/** How dx picks tfjs's program: always one, or by the layer's shape. */
export type InputGradChoice = 'mm' | 'naive' | 'auto-strided';

/** Below this many pixels per image, tfjs's 32-row matmul tiles are less than half used. */
export const MM_MIN_PIXELS = 16;

let current: InputGradChoice = 'mm';

export function setInputGradChoice(choice: InputGradChoice): void {
  current = choice;
}

/** Whether dx for input `xShape` (NHWC) and `filterShape` (HWIO) at `stride` runs tfjs's naive program. */
export function naiveInputGrad(
  xShape: readonly number[],
  filterShape: readonly number[],
  stride: number,
  choice: InputGradChoice = current,
): boolean {
  if (choice === 'mm' || choice === 'naive') return choice === 'naive';
  const [, h, w] = xShape;
  if (h * w < MM_MIN_PIXELS) return true;
  return stride > 1 && (filterShape[0] > 1 || filterShape[1] > 1);
}

const FLAG = 'WEBGPU_USE_NAIVE_CONV2D_TRANSPOSE';

/** Run `fn` with the flag at `naive`, then put it back (tfjs's own conv gradients read it too). */
function withNaiveFlag<T>(naive: boolean, fn: () => T): T {
  let before: boolean;
  try {
    before = tf.env().getBool(FLAG);
  } catch {
    return fn(); // The flag is registered by tfjs-backend-webgpu; without it there is one program only.
  }
  if (before === naive) return fn();
  tf.env().set(FLAG, naive);
  try {
    return fn();
  } finally {
    tf.env().set(FLAG, before);
  }
}

/** The `conv2dInputGrad` op on webgpu: tfjs's kernel, its program picked for this shape. */
export const webgpuConv2dInputGrad: Conv2dInputGradFn = (dy, filter, xShape, stride, pad) =>
  withNaiveFlag(naiveInputGrad(xShape, filter.shape, stride), () =>
    stockConv2dInputGrad(dy, filter, xShape, stride, pad),
  );
