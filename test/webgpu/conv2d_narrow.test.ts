/**
 * The narrow-layer conv kernel (src/backend/webgpu/conv2d_narrow.ts) equals the cpu
 * backend's conv2d and Conv2DBackpropInput (max |a−b| ≤ 1e-5 · max |ref|), on shapes
 * that cover both tiles (8 and 16 wide), ragged m and k, stride 1/2, pad 0/1/3 and the
 * 1x1 shortcut; layers it does not cover still give the right answer through tfjs.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { conv2d } from '../../src/backend/ops/conv2d.js';
import { conv2dInputGrad } from '../../src/backend/ops/conv2d_input_grad.js';
import { NARROW_CONV_KERNEL } from '../../src/backend/webgpu/conv2d_narrow.js';
import { registerWebgpuOps } from '../../src/backend/webgpu/index.js';
import { randomArray, relErr } from '../helpers.js';
import {
  type ConvCase,
  convLabel,
  convOutShape,
  opOnCpuAndGpu,
  type Shape4,
  TOLERANCE,
  useWebgpu,
} from './gpu.js';

const CASES: ConvCase[] = [
  { x: [2, 8, 8, 3], k: 3, co: 16, stride: 1, pad: 1, why: 'RGB stem, k = 27 not a multiple of 16' },
  { x: [3, 9, 9, 16], k: 3, co: 16, stride: 1, pad: 1, why: 'ResNet-20 stage 1, ragged m' },
  { x: [2, 9, 9, 8], k: 3, co: 8, stride: 2, pad: 1, why: '8-wide tile, stride 2' },
  { x: [2, 6, 6, 5], k: 3, co: 7, stride: 1, pad: 0, why: 'odd channels, no padding' },
  { x: [2, 7, 7, 4], k: 7, co: 12, stride: 1, pad: 3, why: 'k 7 pad 3, a partial 16-wide tile' },
  { x: [2, 8, 8, 16], k: 1, co: 16, stride: 2, pad: 0, why: '1x1 shortcut' },
];

async function withNarrow(run: () => Promise<void>): Promise<void> {
  registerWebgpuOps({ narrowConv: 'on' });
  try {
    await run();
  } finally {
    registerWebgpuOps();
  }
}

for (const [i, c] of CASES.entries()) {
  test(`narrow conv2d webgpu = cpu: ${convLabel(c)}`, async (t) => {
    if (!(await useWebgpu(t))) return;
    const xs = randomArray(
      c.x.reduce((a, b) => a * b),
      400 + i,
    );
    const ws = randomArray(c.k * c.k * c.x[3] * c.co, 500 + i);
    await withNarrow(async () => {
      const r = await opOnCpuAndGpu(
        () => [tf.tensor4d(xs, c.x), tf.tensor4d(ws, [c.k, c.k, c.x[3], c.co])],
        (x, w) => conv2d(x as tf.Tensor4D, w as tf.Tensor4D, c.stride, c.pad),
        NARROW_CONV_KERNEL,
      );
      assert.deepEqual(r.shape, convOutShape(c));
      const err = relErr(r.got, r.want);
      assert.ok(err <= TOLERANCE, `rel. error ${err.toExponential(2)} > ${TOLERANCE}`);
    });
  });
}

// dx: stride 1 only (the kernel's transposed mode); the layer's input channels are dx's width.
for (const [i, c] of CASES.filter((c) => c.stride === 1).entries()) {
  test(`narrow conv2dInputGrad webgpu = cpu: ${convLabel(c)}`, async (t) => {
    if (!(await useWebgpu(t))) return;
    const dyShape = convOutShape(c);
    const dys = randomArray(
      dyShape.reduce((a, b) => a * b),
      600 + i,
    );
    const ws = randomArray(c.k * c.k * c.x[3] * c.co, 700 + i);
    await withNarrow(async () => {
      const r = await opOnCpuAndGpu(
        () => [tf.tensor4d(dys, dyShape), tf.tensor4d(ws, [c.k, c.k, c.x[3], c.co])],
        (dy, w) => conv2dInputGrad(dy as tf.Tensor4D, w as tf.Tensor4D, c.x, 1, c.pad),
        NARROW_CONV_KERNEL,
      );
      assert.deepEqual(r.shape, c.x);
      const err = relErr(r.got, r.want);
      assert.ok(err <= TOLERANCE, `rel. error ${err.toExponential(2)} > ${TOLERANCE}`);
    });
  });
}

test('narrow conv: wide layers and stride-2 dx go to tfjs and stay right', async (t) => {
  if (!(await useWebgpu(t))) return;
  const x: Shape4 = [2, 8, 8, 16];
  const xs = randomArray(2 * 8 * 8 * 16, 800);
  const ws = randomArray(3 * 3 * 16 * 32, 801);
  await withNarrow(async () => {
    const wide = await opOnCpuAndGpu(
      () => [tf.tensor4d(xs, x), tf.tensor4d(ws, [3, 3, 16, 32])],
      (a, w) => conv2d(a as tf.Tensor4D, w as tf.Tensor4D, 1, 1),
      'Conv2D',
    );
    assert.ok(relErr(wide.got, wide.want) <= TOLERANCE);
    const dys = randomArray(2 * 4 * 4 * 32, 802);
    const strided = await opOnCpuAndGpu(
      () => [tf.tensor4d(dys, [2, 4, 4, 32]), tf.tensor4d(ws, [3, 3, 16, 32])],
      (dy, w) => conv2dInputGrad(dy as tf.Tensor4D, w as tf.Tensor4D, x, 2, 1),
      'Conv2DBackpropInput',
    );
    assert.deepEqual(strided.shape, x);
    assert.ok(relErr(strided.got, strided.want) <= TOLERANCE);
  });
});
