/**
 * A WebGPU error Dawn reports on the side (here a shader that does not compile) stops the
 * run at the next step boundary with the reason, instead of leaving every later result
 * silently wrong (src/backend/webgpu/device_errors.ts). Its own file: the error is
 * sticky, so nothing else may share this process's device.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { clearDeviceError } from '../../src/backend/webgpu/device_errors.js';
import { webgpuFinish, webgpuThrottle } from '../../src/backend/webgpu/index.js';
import { useWebgpu } from './gpu.js';

test('a device error (bad WGSL) makes the next step boundary throw, and every one after it until cleared', async (t) => {
  if (!(await useWebgpu(t))) return;
  const device = (tf.backend() as unknown as { device: GPUDevice }).device;
  const y = tf.add(tf.ones([4]), 1);
  assert.deepEqual(Array.from(await y.data()), [2, 2, 2, 2]);
  y.dispose();
  await webgpuFinish(); // healthy: no throw
  await webgpuThrottle();
  device.createShaderModule({ code: '@group(0) @binding(0) var<storage, read> filter : array<f32>;' });
  let error: unknown;
  for (let i = 0; i < 20 && error === undefined; i++) {
    try {
      await webgpuFinish();
    } catch (e) {
      error = e;
    }
  }
  assert.match(String(error), /WebGPU reported an error, so results since are wrong: .*reserved keyword/);
  await assert.rejects(webgpuThrottle(), /WebGPU reported an error/);
  // bench-gpu clears it to go on with its next section.
  assert.match(String(clearDeviceError(device)), /reserved keyword/);
  await webgpuFinish();
});
