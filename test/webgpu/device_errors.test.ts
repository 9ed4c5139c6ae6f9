/**
 * A WebGPU error Dawn reports on the side (here a shader that does not compile) stops the
 * run at the next step boundary with the reason, instead of leaving every later result
 * silently wrong (src/backend/webgpu/device_errors.ts). Its own file: the error is
 * sticky, so nothing else may share this process's device.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import {
  clearDeviceError,
  deviceErrorHint,
  withErrorScopes,
} from '../../src/backend/webgpu/device_errors.js';
import { webgpuFinish, webgpuThrottle } from '../../src/backend/webgpu/index.js';
import { useWebgpu } from './gpu.js';

/** The error a step boundary throws once Dawn's asynchronous report has arrived. */
async function boundaryError(): Promise<unknown> {
  for (let i = 0; i < 20; i++) {
    try {
      await webgpuFinish();
    } catch (e) {
      return e;
    }
  }
  return undefined;
}

test('a device error (bad WGSL) makes the next step boundary throw, and every one after it until cleared', async (t) => {
  if (!(await useWebgpu(t))) return;
  const device = (tf.backend() as unknown as { device: GPUDevice }).device;
  const y = tf.add(tf.ones([4]), 1);
  assert.deepEqual(Array.from(await y.data()), [2, 2, 2, 2]);
  y.dispose();
  await webgpuFinish(); // healthy: no throw
  await webgpuThrottle();
  device.createShaderModule({ code: '@group(0) @binding(0) var<storage, read> filter : array<f32>;' });
  let cleared = false;
  try {
    const error = await boundaryError();
    assert.match(String(error), /WebGPU reported an error, so results since are wrong: .*reserved keyword/);
    await assert.rejects(webgpuThrottle(), /WebGPU reported an error/);
    // bench-gpu clears it to go on with its next section.
    assert.match(String(clearDeviceError(device)), /reserved keyword/);
    cleared = true;
    await webgpuFinish();
  } finally {
    // Sticky otherwise: the bundled GPU tests share this process with other files.
    if (!cleared) clearDeviceError(device);
  }
});

test('deviceErrorHint names the sizes and the fix for a too-large tensor or running out of memory', () => {
  const binding =
    'GPUValidationError: Binding size (154140672) of [Buffer (unlabeled)] is larger than the maximum storage buffer binding size (134217728).';
  assert.match(
    String(deviceErrorHint(binding)),
    /one tensor \(147 MiB\).*\(128 MiB\): lower train\.batch_size/,
  );
  assert.match(
    String(deviceErrorHint('GPUOutOfMemoryError: Out of memory')),
    /ran out of memory: lower train\.batch_size/,
  );
  assert.equal(deviceErrorHint('GPUValidationError: reserved keyword'), null);
  // With the device's limits, the hint says what the device obtained.
  const limits = { maxStorageBufferBindingSize: 2 ** 27, maxBufferSize: 2 ** 32 };
  assert.match(
    String(deviceErrorHint(binding, limits)),
    /\(128 MiB\) \(this device's limits, the adapter's maximum: one binding ≤ 128 MiB, one buffer ≤ 4096 MiB\): lower/,
  );
});

test("the device gets the adapter's maximum limits, not Dawn's defaults (128 MiB per binding, 256 MiB per buffer)", async (t) => {
  if (!(await useWebgpu(t))) return;
  const device = (tf.backend() as unknown as { device: GPUDevice }).device;
  const adapter = await navigator.gpu.requestAdapter({ powerPreference: 'high-performance' });
  assert.ok(adapter, 'a second adapter request found nothing');
  for (const key of [
    'maxStorageBufferBindingSize',
    'maxBufferSize',
    'maxComputeWorkgroupStorageSize',
  ] as const)
    assert.equal(device.limits[key], adapter.limits[key], key);
});

test("a tensor over the device's binding limit stops the run with the hint", async (t) => {
  if (!(await useWebgpu(t))) return;
  const device = (tf.backend() as unknown as { device: GPUDevice }).device;
  const limit = device.limits.maxStorageBufferBindingSize;
  if (limit > 2 ** 28) {
    t.skip(`binding limit ${limit} bytes: too large to exceed in a test`);
    return;
  }
  try {
    const big = tf.fill([limit / 4 + 4], 1);
    const y = tf.add(big, 1);
    const error = await boundaryError();
    tf.dispose([big, y]);
    assert.match(
      String(error),
      /larger than this GPU lets one kernel bind \([\d.]+ MiB\) \(this device's limits, the adapter's maximum: one binding ≤ \d+ MiB, one buffer ≤ \d+ MiB\): lower train\.batch_size/,
    );
  } finally {
    // Sticky otherwise: the bundled GPU tests share this process with other files.
    clearDeviceError(device);
  }
});

test('withErrorScopes charges a device error to the work that caused it, not to what runs next', async (t) => {
  if (!(await useWebgpu(t))) return;
  const device = (tf.backend() as unknown as { device: GPUDevice }).device;
  const bad = await withErrorScopes(device, async () => {
    device.createShaderModule({ code: '@group(0) @binding(0) var<storage, read> filter : array<f32>;' });
    await webgpuFinish();
  });
  assert.match(String(bad), /reserved keyword/);
  // Caught by the scope: the next work and the step boundaries see a healthy device.
  const next = await withErrorScopes(device, async () => {
    const y = tf.add(tf.ones([4]), 1);
    assert.deepEqual(Array.from(await y.data()), [2, 2, 2, 2]);
    y.dispose();
    await webgpuFinish();
  });
  assert.equal(next, null);
  await webgpuFinish();
  await assert.rejects(
    withErrorScopes(device, async () => {
      throw new Error('work failed');
    }),
    /work failed/,
  );
});
