/**
 * The webgpu conv-gradient ops equal the cpu backend's Conv2DBackpropFilter /
 * Conv2DBackpropInput (max |a−b| ≤ 1e-5 · max |ref|) on shapes that cover every tile
 * configuration, split-K with a ragged last chunk, stride 1/2, pad 0/1/3, k 1/3/7.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import {
  type Conv2dFilterGradFn,
  type FilterShape,
  stockConv2dFilterGrad,
} from '../../src/backend/ops/conv2d_filter_grad.js';
import {
  type Conv2dInputGradFn,
  conv2dInputGrad,
  stockConv2dInputGrad,
} from '../../src/backend/ops/conv2d_input_grad.js';
import { opImplFor } from '../../src/backend/ops/registry.js';
import {
  setFilterGradTargetWorkgroups,
  webgpuConv2dFilterGrad,
} from '../../src/backend/webgpu/conv2d_filter_grad.js';
import { naiveInputGrad } from '../../src/backend/webgpu/conv2d_input_grad.js';
import { registerWebgpuOps } from '../../src/backend/webgpu/index.js';
import { randomArray, relErr } from '../helpers.js';
import { type ConvCase, convLabel, convOutShape, onCpu, onGpu, TOLERANCE, useWebgpu } from './gpu.js';

const CASES: ConvCase[] = [
  { x: [2, 8, 8, 3], k: 3, co: 4, stride: 1, pad: 1, why: 'narrow tile, RGB input' },
  { x: [2, 9, 9, 16], k: 3, co: 32, stride: 2, pad: 1, why: '32-wide tile, odd size, stride 2' },
  { x: [2, 16, 16, 8], k: 7, co: 64, stride: 2, pad: 3, why: '64-wide tile, 7x7 stem' },
  { x: [2, 8, 8, 64], k: 1, co: 128, stride: 2, pad: 0, why: '128-wide tile, 1x1 shortcut' },
  { x: [3, 6, 6, 5], k: 3, co: 7, stride: 1, pad: 0, why: 'odd channels, no padding' },
  { x: [6, 10, 10, 4], k: 3, co: 8, stride: 1, pad: 1, why: 'split-K, ragged last chunk' },
  { x: [2, 7, 7, 4], k: 7, co: 5, stride: 1, pad: 3, why: 'k 7 pad 3 stride 1' },
  { x: [2, 12, 12, 16], k: 3, co: 160, stride: 2, pad: 3, why: 'partial 128 tiles, pad 3' },
];

function inputs(c: ConvCase, seed: number) {
  const filterShape: FilterShape = [c.k, c.k, c.x[3], c.co];
  const dyShape = convOutShape(c);
  return {
    filterShape,
    dyShape,
    x: randomArray(
      c.x.reduce((a, b) => a * b),
      seed,
    ),
    dy: randomArray(
      dyShape.reduce((a, b) => a * b),
      seed + 1,
    ),
    w: randomArray(
      filterShape.reduce((a, b) => a * b),
      seed + 2,
    ),
  };
}

for (const [i, c] of CASES.entries()) {
  test(`conv2dFilterGrad webgpu = cpu: ${convLabel(c)}`, async (t) => {
    if (!(await useWebgpu(t))) return;
    const d = inputs(c, 100 + i);
    const call = (impl: Conv2dFilterGradFn) => () =>
      impl(tf.tensor4d(d.x, c.x), tf.tensor4d(d.dy, d.dyShape), d.filterShape, c.stride, c.pad);
    const ref = await onCpu(call(stockConv2dFilterGrad));
    const got = await onGpu(call(webgpuConv2dFilterGrad));
    assert.deepEqual(got.shape, d.filterShape);
    const err = relErr(got.data, ref);
    assert.ok(err <= TOLERANCE, `rel. error ${err.toExponential(2)} > ${TOLERANCE}`);
  });
}

/** tfjs's own dx programs: the stride/pad/kernel combinations, fewer shapes (each compiles its own). */
const INPUT_GRAD_CASES = [CASES[0], CASES[2], CASES[3], CASES[4]];

for (const [i, c] of INPUT_GRAD_CASES.entries()) {
  test(`conv2dInputGrad webgpu = cpu: ${convLabel(c)}${i === 0 ? ' (mm and naive programs)' : ''}`, async (t) => {
    if (!(await useWebgpu(t))) return;
    const d = inputs(c, 200 + i);
    const call = (impl: Conv2dInputGradFn) => () =>
      impl(tf.tensor4d(d.dy, d.dyShape), tf.tensor4d(d.w, d.filterShape), c.x, c.stride, c.pad);
    const ref = await onCpu(call(stockConv2dInputGrad));
    try {
      // Both programs on the first shape; the other shapes on `mm` (ours; each compile is slow on lavapipe).
      for (const inputGrad of i === 0 ? (['mm', 'naive'] as const) : (['mm'] as const)) {
        registerWebgpuOps({ inputGrad });
        const got = await onGpu(call(conv2dInputGrad));
        assert.deepEqual(got.shape, c.x);
        const err = relErr(got.data, ref);
        assert.ok(err <= TOLERANCE, `${inputGrad}: rel. error ${err.toExponential(2)} > ${TOLERANCE}`);
      }
    } finally {
      registerWebgpuOps();
    }
  });
}

test("naiveInputGrad: which of tfjs's dx programs each choice picks", () => {
  const big = [8, 8, 8, 64];
  const tiny = [8, 2, 2, 256];
  const k3 = [3, 3, 64, 64];
  const k1 = [1, 1, 64, 128];
  for (const [x, f, stride] of [
    [big, k3, 1],
    [tiny, k3, 2],
  ] as const) {
    assert.equal(naiveInputGrad(x, f, stride, 'mm'), false);
    assert.equal(naiveInputGrad(x, f, stride, 'naive'), true);
  }
  // auto-strided: naive below 16 pixels per image (4x4 = 16 stays on the matmul) ...
  assert.equal(naiveInputGrad(big, k3, 1, 'auto-strided'), false);
  assert.equal(naiveInputGrad([8, 4, 4, 64], k3, 1, 'auto-strided'), false);
  assert.equal(naiveInputGrad([8, 3, 5, 64], k3, 1, 'auto-strided'), true);
  assert.equal(naiveInputGrad(tiny, k3, 1, 'auto-strided'), true);
  // ... and on strided layers with a filter wider than 1x1.
  assert.equal(naiveInputGrad(big, k3, 2, 'auto-strided'), true);
  assert.equal(naiveInputGrad(big, k1, 2, 'auto-strided'), false);
});

test("conv2dInputGrad by shape (auto-strided) runs tfjs's program for each layer, equals cpu, leaves the flag", async (t) => {
  if (!(await useWebgpu(t))) return;
  const cases: Array<[ConvCase, boolean]> = [
    [{ x: [2, 3, 3, 8], k: 3, co: 8, stride: 1, pad: 1, why: 'tiny image: naive' }, true],
    [CASES[1], true], // 3x3 stride 2: naive
    [CASES[3], false], // 1x1 stride 2: matmul
    [CASES[0], false], // 8x8 stride 1: matmul
  ];
  // Which of tfjs's two programs ran: their shader keys are conv2DDerInput_… and conv2DDerInputMM_….
  const backend = tf.backend() as unknown as {
    runWebGPUProgram: (p: { shaderKey: string }, ...a: unknown[]) => unknown;
  };
  const run = backend.runWebGPUProgram;
  const ran: string[] = [];
  backend.runWebGPUProgram = function (this: unknown, p, ...a) {
    ran.push(p.shaderKey);
    return run.call(this, p, ...a);
  };
  const flagBefore = tf.env().getBool('WEBGPU_USE_NAIVE_CONV2D_TRANSPOSE');
  try {
    registerWebgpuOps({ inputGrad: 'auto-strided' });
    for (const [i, [c, naive]] of cases.entries()) {
      const d = inputs(c, 400 + i);
      const call = (impl: Conv2dInputGradFn) => () =>
        impl(tf.tensor4d(d.dy, d.dyShape), tf.tensor4d(d.w, d.filterShape), c.x, c.stride, c.pad);
      const ref = await onCpu(call(stockConv2dInputGrad));
      ran.length = 0;
      const got = await onGpu(call(conv2dInputGrad));
      const program = ran.find((k) => k.startsWith('conv2DDerInput'));
      assert.match(String(program), naive ? /^conv2DDerInput_/ : /^conv2DDerInputMM_/, convLabel(c));
      assert.equal(tf.env().getBool('WEBGPU_USE_NAIVE_CONV2D_TRANSPOSE'), flagBefore, 'flag put back');
      const err = relErr(got.data, ref);
      assert.ok(err <= TOLERANCE, `${convLabel(c)}: rel. error ${err.toExponential(2)} > ${TOLERANCE}`);
    }
  } finally {
    backend.runWebGPUProgram = run;
    registerWebgpuOps();
  }
});

test('conv2dFilterGrad: split count does not change the result; no tensors leak', async (t) => {
  if (!(await useWebgpu(t))) return;
  const c = CASES[5];
  const d = inputs(c, 300);
  const x = tf.tensor4d(d.x, c.x);
  const dy = tf.tensor4d(d.dy, d.dyShape);
  const before = tf.memory().numTensors;
  const runs: Float32Array[] = [];
  try {
    for (const target of [1, 1 << 20]) {
      setFilterGradTargetWorkgroups(target);
      const g = webgpuConv2dFilterGrad(x, dy, d.filterShape, c.stride, c.pad);
      runs.push((await g.data()) as Float32Array);
      g.dispose();
    }
  } finally {
    setFilterGradTargetWorkgroups(1024);
  }
  assert.equal(tf.memory().numTensors, before);
  assert.ok(relErr(runs[0], runs[1]) <= TOLERANCE);
  x.dispose();
  dy.dispose();
});

test('registerWebgpuOps routes conv2dFilterGrad to the split-K kernel on webgpu only', async (t) => {
  if (!(await useWebgpu(t))) return;
  assert.equal(opImplFor('conv2dFilterGrad'), webgpuConv2dFilterGrad);
  await tf.setBackend('cpu');
  assert.equal(opImplFor('conv2dFilterGrad'), undefined);
  await tf.setBackend('webgpu');
});
