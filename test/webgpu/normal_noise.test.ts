/**
 * WM's mirror noise drawn on the device equals the host's stream (src/util/ziggurat.ts):
 * bit for bit but for the ziggurat's tail (WGSL's log), which agrees to float rounding.
 * The size is past one pass of the kernel's grid-stride loop and not a multiple of its
 * four-sample blocks.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { normalNoise } from '../../src/backend/ops/normal_noise.js';
import { MAX_WORKGROUPS, NORMAL_NOISE_KERNEL, THREADS } from '../../src/backend/webgpu/normal_noise.js';
import { onCpu, onGpu, opOnCpuAndGpu, useWebgpu } from './gpu.js';

test('normalNoise webgpu = the host stream: > 99.9 % bit-identical, the rest within rounding', async (t) => {
  if (!(await useWebgpu(t))) return;
  const size = MAX_WORKGROUPS * THREADS * 4 + 4099; // one grid pass of 4-sample blocks, and more
  const [seed, std] = [0x9e3779b9, 1.7];
  const { want, got } = await opOnCpuAndGpu(
    () => [],
    () => normalNoise([size], seed, std),
    NORMAL_NOISE_KERNEL,
  );
  let [exact, far, worst] = [0, 0, 0];
  for (let i = 0; i < size; i++) {
    if (got[i] === want[i]) {
      exact++;
      continue;
    }
    const err = Math.abs(got[i] - want[i]) / Math.max(1, Math.abs(want[i]));
    if (err > 1e-5) far++;
    else worst = Math.max(worst, err);
  }
  t.diagnostic(`${size} samples: ${exact} bit-identical, ${far} beyond rounding, worst of the rest ${worst}`);
  assert.ok(exact / size > 0.999, `bit-identical: ${((100 * exact) / size).toFixed(2)} %`);
  // A wedge test within rounding of its bound may go the other way (WGSL's exp is not
  // correctly rounded; none did on lavapipe): allow one sample in a million.
  assert.ok(far <= size * 1e-6, `${far} samples differ by more than rounding (worst of the rest ${worst})`);
  // the last block and the grid's second pass are written (not left zero)
  assert.notEqual(got[size - 1], 0);
  assert.equal(got[size - 1], want[size - 1]);
});

test('normalNoise webgpu: any shape, one element; empty', async (t) => {
  if (!(await useWebgpu(t))) return;
  for (const shape of [[2, 3, 5, 7], [1]]) {
    const r = await opOnCpuAndGpu(
      () => [],
      () => normalNoise(shape, 11),
      NORMAL_NOISE_KERNEL,
    );
    assert.deepEqual(r.shape, shape);
    assert.equal(r.got.length, r.want.length);
    for (let i = 0; i < r.want.length; i++)
      assert.ok(Math.abs(r.got[i] - r.want[i]) <= 1e-5 * Math.max(1, Math.abs(r.want[i])), `${shape} [${i}]`);
  }
  const empty = await onGpu(() => normalNoise([0, 4], 11));
  assert.deepEqual(empty.shape, [0, 4]);
  assert.equal((await onCpu(() => normalNoise([0, 4], 11))).length, 0);
});
