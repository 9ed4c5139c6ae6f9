/**
 * WM's mirror noise drawn on the device equals the host's stream (src/util/ziggurat.ts):
 * bit for bit but for the ziggurat's tail (WGSL's log), which agrees to float rounding.
 * The size is past one pass of the kernel's grid-stride loop and not a multiple of its
 * four-sample blocks.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { normalNoise } from '../../src/backend/ops/normal_noise.js';
import { onCpu, onGpu, useWebgpu } from './gpu.js';

test('normalNoise webgpu = the host stream: > 99.9 % bit-identical, the rest within rounding', async (t) => {
  if (!(await useWebgpu(t))) return;
  const size = 16384 * 256 * 4 + 4099; // MAX_WORKGROUPS · THREADS blocks of 4, and more
  const [seed, std] = [0x9e3779b9, 1.7];
  const want = await onCpu(() => normalNoise([size], seed, std));
  const before = tf.memory().numTensors;
  const got = await onGpu(() => normalNoise([size], seed, std));
  assert.equal(tf.memory().numTensors, before, 'tensors leaked');
  let [exact, far, worst] = [0, 0, 0];
  for (let i = 0; i < size; i++) {
    if (got.data[i] === want[i]) {
      exact++;
      continue;
    }
    const err = Math.abs(got.data[i] - want[i]) / Math.max(1, Math.abs(want[i]));
    if (err > 1e-5) far++;
    else worst = Math.max(worst, err);
  }
  t.diagnostic(`${size} samples: ${exact} bit-identical, ${far} beyond rounding, worst of the rest ${worst}`);
  assert.ok(exact / size > 0.999, `bit-identical: ${((100 * exact) / size).toFixed(2)} %`);
  // An acceptance test within rounding of its bound may go the other way (~1 in 10⁸).
  assert.ok(far <= 2, `${far} samples differ by more than rounding (worst of the rest ${worst})`);
  // the last block and the grid's second pass are written (not left zero)
  assert.notEqual(got.data[size - 1], 0);
  assert.equal(got.data[size - 1], want[size - 1]);
});

test('normalNoise webgpu: any shape, one element, empty', async (t) => {
  if (!(await useWebgpu(t))) return;
  for (const shape of [[2, 3, 5, 7], [1], [0, 4]]) {
    const want = await onCpu(() => normalNoise(shape, 11));
    const got = await onGpu(() => normalNoise(shape, 11));
    assert.deepEqual(got.shape, shape);
    assert.equal(got.data.length, want.length);
    for (let i = 0; i < want.length; i++)
      assert.ok(Math.abs(got.data[i] - want[i]) <= 1e-5 * Math.max(1, Math.abs(want[i])), `${shape} [${i}]`);
  }
});
