/**
 * The buffer pool's bytes and peaks (src/backend/webgpu/memory.ts), which bench-gpu
 * reports as peak GPU memory, and giving the pool's free buffers back between nets.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { webgpuFinish } from '../../src/backend/webgpu/index.js';
import { gpuMemory, releaseFreeBuffers, resetPeakGpuMemory } from '../../src/backend/webgpu/memory.js';
import type { WebGPUBackend } from '../../src/backend/webgpu/program.js';
import { useWebgpu } from './gpu.js';

const MB = 2 ** 20;

test('peak used bytes see a tensor that is gone again; releasing free buffers shrinks the pool, which keeps working', async (t) => {
  if (!(await useWebgpu(t))) return;
  const backend = tf.backend() as unknown as WebGPUBackend;
  await webgpuFinish();
  resetPeakGpuMemory(backend);
  const before = gpuMemory(backend);
  assert.equal(before.peakUsedBytes, before.usedBytes);
  // 4 MiB that exists only inside the tidy: the peak keeps it, the current count does not.
  const sum = tf.tidy(() => tf.sum(tf.add(tf.ones([MB]), 1)));
  assert.equal((await sum.data())[0], 2 * MB);
  sum.dispose();
  await webgpuFinish();
  const after = gpuMemory(backend);
  assert.ok(after.peakUsedBytes >= before.usedBytes + 4 * MB, `peak ${after.peakUsedBytes}`);
  assert.ok(after.usedBytes < before.usedBytes + MB, `still used: ${after.usedBytes - before.usedBytes}`);
  assert.ok(after.peakAllocatedBytes >= after.allocatedBytes);
  assert.equal((tf.memory() as tf.MemoryInfo & { numBytesInGPU: number }).numBytesInGPU, after.usedBytes);

  const freed = releaseFreeBuffers(backend);
  assert.ok(freed >= 4 * MB, `freed ${freed}`);
  const released = gpuMemory(backend);
  assert.equal(released.allocatedBytes, after.allocatedBytes - freed);
  assert.equal(releaseFreeBuffers(backend), 0);
  // The pool still hands out and takes back buffers, and results are right.
  const again = tf.tidy(() => tf.sum(tf.mul(tf.ones([1000]), 3)));
  assert.equal((await again.data())[0], 3000);
  again.dispose();
  await webgpuFinish();
  assert.ok(releaseFreeBuffers(backend) > 0, 'the released tensors went back to the pool');
});
