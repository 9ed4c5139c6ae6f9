/**
 * The feedback-rule kernels on webgpu equal their tf-op versions on cpu: SS's
 * sign(W)·M (a number, or a tensor of W's shape; sign(0) = 0), WM's mirror update
 * (B·(1 − λ) + η·G/P with P per tap or a scalar) and WM's centred ReLU (y − ȳ).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { centredRelu } from '../../src/backend/ops/centred_relu.js';
import { mirrorUpdate } from '../../src/backend/ops/mirror_update.js';
import { signTimes } from '../../src/backend/ops/sign_times.js';
import { CENTRED_RELU_KERNEL } from '../../src/backend/webgpu/centred_relu.js';
import { MIRROR_UPDATE_KERNEL, trailingBroadcast } from '../../src/backend/webgpu/mirror_update.js';
import { SIGN_TIMES_KERNEL } from '../../src/backend/webgpu/sign_times.js';
import { randomArray, relErr } from '../helpers.js';
import { opOnCpuAndGpu, TOLERANCE, useWebgpu } from './gpu.js';

/** `op` on fresh `inputs` on cpu and webgpu (where it must run `kernel` and leak nothing). */
async function same(
  name: string,
  kernel: string,
  inputs: () => tf.Tensor[],
  op: (...xs: tf.Tensor[]) => tf.Tensor,
): Promise<void> {
  const { want, got } = await opOnCpuAndGpu(inputs, op, kernel);
  const err = relErr(got, want);
  assert.ok(err <= TOLERANCE, `${name}: rel. error ${err.toExponential(2)} > ${TOLERANCE}`);
}

test('signTimes webgpu = cpu: scalar and per-weight magnitudes, zeros in W', async (t) => {
  if (!(await useWebgpu(t))) return;
  const shape = [3, 3, 8, 16];
  const w = randomArray(1152, 1).map((v, i) => (i % 9 === 0 ? 0 : v));
  const m = randomArray(1152, 2).map(Math.abs);
  await same(
    'scalar M',
    SIGN_TIMES_KERNEL,
    () => [tf.tensor(w, shape)],
    (x) => signTimes(x, 0.37),
  );
  await same(
    'tensor M',
    SIGN_TIMES_KERNEL,
    () => [tf.tensor(w, shape), tf.tensor(m, shape)],
    (x, mag) => signTimes(x, mag),
  );
});

test('mirrorUpdate webgpu = cpu: per-tap pairs [kh, kw, 1, 1] and scalar pairs', async (t) => {
  if (!(await useWebgpu(t))) return;
  const shape = [3, 3, 4, 5];
  const b = randomArray(180, 3);
  const g = randomArray(180, 4).map((v) => 40 * v);
  const taps = [4, 6, 4, 6, 9, 6, 4, 6, 4].map((p) => p * 32);
  const update = (B: tf.Tensor, G: tf.Tensor, P: tf.Tensor) => mirrorUpdate(B, G, P, 0.9, 0.1);
  await same(
    'conv',
    MIRROR_UPDATE_KERNEL,
    () => [tf.tensor(b, shape), tf.tensor(g, shape), tf.tensor(taps, [3, 3, 1, 1])],
    update,
  );
  await same(
    'dense',
    MIRROR_UPDATE_KERNEL,
    () => [tf.tensor(b, [36, 5]), tf.tensor(g, [36, 5]), tf.scalar(32)],
    update,
  );
});

test('trailingBroadcast: elements of B per element of P, or null', () => {
  assert.equal(trailingBroadcast([3, 3, 4, 5], [3, 3, 1, 1]), 20);
  assert.equal(trailingBroadcast([36, 5], []), 180);
  assert.equal(trailingBroadcast([3, 3, 4, 5], [1, 1, 4, 5]), null);
  assert.equal(trailingBroadcast([3, 3, 4, 5], [3, 3]), null);
});

test('centredRelu webgpu = cpu: conv maps and dense rows', async (t) => {
  if (!(await useWebgpu(t))) return;
  const z = randomArray(32 * 5 * 5 * 12, 5);
  const centre = (x: tf.Tensor) => centredRelu(x);
  await same('conv', CENTRED_RELU_KERNEL, () => [tf.tensor(z, [32, 5, 5, 12])], centre);
  await same('dense', CENTRED_RELU_KERNEL, () => [tf.tensor(z.subarray(0, 32 * 40), [32, 40])], centre);
});
