// Each wasm replacement kernel must equal the cpu backend's own kernel.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { conv2d, convOutSize } from '../../src/backend/ops/conv2d.js';
import { conv2dFilterGrad } from '../../src/backend/ops/conv2d_filter_grad.js';
import { conv2dInputGrad } from '../../src/backend/ops/conv2d_input_grad.js';
import { croppedTaps, forwardPlan, inputGradPlan } from '../../src/backend/wasm/simd/conv_plans.js';
import { randomArray, relErr, take, useBackend } from '../helpers.js';

type Shape4 = [number, number, number, number];
// [x shape, filter shape, stride, pad]: pad (k-1)/2 is 'same', 0 is 'valid'.
const CASES: Array<[Shape4, Shape4, number, number]> = [
  [[2, 8, 8, 3], [3, 3, 3, 4], 1, 1],
  [[2, 8, 8, 3], [3, 3, 3, 4], 1, 0],
  [[2, 9, 9, 3], [3, 3, 3, 4], 2, 1],
  [[2, 8, 8, 3], [3, 3, 3, 5], 2, 1],
  [[2, 7, 7, 4], [3, 3, 4, 6], 2, 0],
  [[1, 11, 11, 2], [7, 7, 2, 3], 2, 3],
  [[1, 12, 12, 3], [7, 7, 3, 4], 2, 3],
  [[2, 8, 8, 4], [1, 1, 4, 6], 1, 0],
  [[2, 8, 8, 4], [1, 1, 4, 6], 2, 0],
  [[2, 9, 9, 4], [1, 1, 4, 6], 2, 0],
  [[3, 5, 6, 2], [3, 3, 2, 2], 1, 1],
  // Channel counts our SIMD convolutions take (forward: O % 8; input grad: C % 8; filter
  // grad: C % 4 and O % 8), with widths that are not multiples of their 4-pixel tile.
  [[2, 8, 8, 8], [3, 3, 8, 8], 1, 1],
  [[2, 9, 9, 8], [3, 3, 8, 16], 2, 1],
  [[3, 7, 7, 16], [3, 3, 16, 8], 2, 0],
  [[1, 12, 12, 8], [7, 7, 8, 8], 2, 3],
  [[2, 8, 8, 8], [1, 1, 8, 16], 2, 0],
  [[2, 9, 9, 8], [1, 1, 8, 16], 2, 0],
  [[3, 5, 6, 8], [3, 3, 8, 8], 1, 1],
  [[2, 7, 7, 4], [3, 3, 4, 8], 1, 1],
  [[2, 10, 10, 3], [7, 7, 3, 16], 2, 3],
  // Late-stage maps (1x1 to 3x3: tiles span rows and images) and a filter gradient
  // over many cache-sized chunks of rows.
  [[6, 2, 2, 16], [3, 3, 16, 32], 2, 1],
  [[5, 3, 3, 8], [3, 3, 8, 16], 1, 1],
  [[3, 1, 1, 16], [1, 1, 16, 8], 1, 0],
  [[1, 16, 16, 64], [3, 3, 64, 64], 1, 1],
  // Taps that only ever meet padding are cropped (croppedTaps): 3x3 on 1x1 maps, 7x7 on 2x2.
  [[4, 1, 1, 16], [3, 3, 16, 8], 1, 1],
  [[2, 2, 2, 8], [7, 7, 8, 16], 1, 3],
  [[3, 1, 1, 8], [3, 3, 8, 16], 2, 1],
  // The packed filter gradient (32+ channels or stride 2), with a crop, odd widths and
  // chunks that end inside an image.
  [[2, 1, 1, 32], [3, 3, 32, 8], 1, 1],
  [[3, 5, 7, 32], [3, 3, 32, 8], 1, 1],
  [[6, 9, 9, 32], [3, 3, 32, 8], 1, 1],
  [[1, 40, 40, 32], [3, 3, 32, 8], 2, 1],
  // Winograd F(2x2, 3x3) (3x3, stride 1, 32+ input channels): odd map sizes (partial
  // tiles), valid padding, and the input gradient through it (δ's 32 channels).
  [[2, 7, 5, 8], [3, 3, 8, 32], 1, 1],
  [[2, 10, 10, 32], [3, 3, 32, 8], 1, 0],
  [[2, 10, 10, 8], [3, 3, 8, 32], 1, 0],
  [[1, 9, 6, 64], [3, 3, 64, 64], 1, 1],
];

async function gradsOn(backend: 'cpu' | 'wasm', xs: Shape4, fs: Shape4, s: number, p: number) {
  await useBackend(backend);
  const dyShape: Shape4 = [xs[0], convOutSize(xs[1], fs[0], s, p), convOutSize(xs[2], fs[1], s, p), fs[3]];
  const size = (sh: number[]) => sh.reduce((a, b) => a * b, 1);
  const x = tf.tensor4d(randomArray(size(xs), 1), xs);
  const f = tf.tensor4d(randomArray(size(fs), 2), fs);
  const dy = tf.tensor4d(randomArray(size(dyShape), 3), dyShape);
  const y = take(conv2d(x, f, s, p));
  const dW = take(conv2dFilterGrad(x, dy, fs, s, p));
  const dx = take(conv2dInputGrad(dy, f, xs, s, p));
  tf.dispose([x, f, dy]);
  return { y, dW, dx };
}

for (const [xs, fs, s, p] of CASES) {
  test(`wasm convolutions match cpu: x=${xs} k=${fs} stride=${s} pad=${p}`, async () => {
    const cpu = await gradsOn('cpu', xs, fs, s, p);
    const wasm = await gradsOn('wasm', xs, fs, s, p);
    assert.ok(relErr(wasm.y, cpu.y) < 1e-5, `forward rel err ${relErr(wasm.y, cpu.y)}`);
    assert.ok(relErr(wasm.dW, cpu.dW) < 1e-5, `filter grad rel err ${relErr(wasm.dW, cpu.dW)}`);
    assert.ok(relErr(wasm.dx, cpu.dx) < 1e-5, `input grad rel err ${relErr(wasm.dx, cpu.dx)}`);
  });
}

test('the SIMD convolution kernels run where the channels fit (seen in tf.profile)', async () => {
  await useBackend('wasm');
  const x = tf.tensor4d(randomArray(2 * 8 * 8 * 8, 4), [2, 8, 8, 8]);
  const f = tf.tensor4d(randomArray(9 * 8 * 16, 5), [3, 3, 8, 16]);
  const dy = tf.tensor4d(randomArray(2 * 8 * 8 * 16, 6), [2, 8, 8, 16]);
  const prof = await tf.profile(() => {
    tf.dispose([conv2d(x, f, 1, 1), conv2dFilterGrad(x, dy, [3, 3, 8, 16], 1, 1)]);
    tf.dispose(conv2dInputGrad(dy, f, [2, 8, 8, 8], 1, 1));
  });
  const names = prof.kernels.map((k) => k.name);
  for (const k of ['WtrainConv2D', 'WtrainConv2DInputGrad', 'WtrainConv2DFilterGrad'])
    assert.equal(names.filter((n) => n === k).length, 1, `${k} in ${names.join(',')}`);
  assert.ok(!names.includes('Conv2D'), names.join(','));
  tf.dispose([x, f, dy]);
});

test('croppedTaps keeps only the taps that meet real pixels, symmetric crops only', () => {
  assert.deepEqual(croppedTaps(1, 1, 3, 1, 1), { lo: 1, k: 1, pad: 0 });
  assert.deepEqual(croppedTaps(1, 1, 3, 2, 1), { lo: 1, k: 1, pad: 0 });
  assert.deepEqual(croppedTaps(2, 2, 7, 1, 3), { lo: 2, k: 3, pad: 1 });
  assert.equal(croppedTaps(2, 2, 3, 1, 1), null); // every tap meets a pixel
  assert.equal(croppedTaps(2, 2, 3, 2, 1), null); // taps 1-2 only: not symmetric
  assert.equal(croppedTaps(8, 8, 3, 1, 1), null);
  assert.equal(croppedTaps(1, 2, 3, 1, 1), null); // rows and columns differ
});

test('the Winograd kernel is planned for 3x3 stride-1 convolutions on 32+ channels and 4x4+ maps', () => {
  const fns = (plan: {
    calls: (n: number, at: { inputs: number[]; out: number; scratch: number }) => { fn: string }[];
  }) => plan.calls(1, { inputs: [0, 0], out: 0, scratch: 0 }).map((call) => call.fn);
  const g = (h: number, c: number, o: number, kh: number, stride: number) => ({
    n: 2,
    h,
    w: h,
    c,
    o,
    kh,
    kw: kh,
    stride,
    pad: (kh - 1) >> 1,
  });
  assert.ok(fns(forwardPlan(g(7, 32, 8, 3, 1))).includes('conv2d_wino'));
  assert.ok(fns(inputGradPlan(g(7, 8, 32, 3, 1))).includes('conv2d_wino'));
  assert.ok(!fns(forwardPlan(g(8, 16, 16, 3, 1))).includes('conv2d_wino')); // 16 channels
  assert.ok(!fns(forwardPlan(g(3, 64, 64, 3, 1))).includes('conv2d_wino')); // 3x3 maps
  assert.ok(!fns(forwardPlan(g(8, 64, 64, 3, 2))).includes('conv2d_wino')); // stride 2
  assert.ok(!fns(forwardPlan(g(8, 64, 64, 1, 1))).includes('conv2d_wino')); // 1x1
});
