/**
 * The one-dispatch element-wise kernels equal their generic tf-op versions on cpu:
 * ReLU's backward (reluGrad) and a residual block's ReLU(a + b) (addRelu); and a
 * BatchNorm training step leaves the same running statistics on both backends (on
 * webgpu written in place by the statistics pass).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { addRelu } from '../../src/backend/ops/add_relu.js';
import { reluGrad } from '../../src/backend/ops/relu_grad.js';
import { ADD_RELU_KERNEL, RELU_GRAD_KERNEL } from '../../src/backend/webgpu/relu_grad.js';
import { BatchNorm } from '../../src/models/layers/batchnorm.js';
import { ForwardContext } from '../../src/models/layers/types.js';
import { randomArray, relErr } from '../helpers.js';
import { onCpuThenGpu, opOnCpuAndGpu, TOLERANCE, useWebgpu } from './gpu.js';

test('reluGrad webgpu = cpu (zeros, negatives and positives in y)', async (t) => {
  if (!(await useWebgpu(t))) return;
  const shape = [2, 5, 5, 12];
  const size = 600;
  const dy = randomArray(size, 3);
  const y = randomArray(size, 4).map((v, i) => (i % 7 === 0 ? 0 : Math.max(0, v)));
  const r = await opOnCpuAndGpu(
    () => [tf.tensor(dy, shape), tf.tensor(y, shape)],
    (a, b) => reluGrad(a, b),
    RELU_GRAD_KERNEL,
  );
  assert.deepEqual(r.shape, shape);
  const unsigned = (a: Float32Array) => [...a].map((v) => v + 0); // dy·0 on cpu may be −0
  assert.deepEqual(unsigned(r.got), unsigned(r.want));
});

test('addRelu webgpu = cpu', async (t) => {
  if (!(await useWebgpu(t))) return;
  const shape = [2, 6, 6, 8];
  const a = randomArray(576, 7);
  const b = randomArray(576, 8);
  const r = await opOnCpuAndGpu(
    () => [tf.tensor(a, shape), tf.tensor(b, shape)],
    (x, y) => addRelu(x, y),
    ADD_RELU_KERNEL,
  );
  assert.deepEqual(r.shape, shape);
  assert.deepEqual([...r.got], [...r.want]);
});

test('BatchNorm training step: running statistics webgpu = cpu', async (t) => {
  if (!(await useWebgpu(t))) return;
  const x = randomArray(4 * 3 * 3 * 8, 9).map((v, i) => 2 * v + (i % 8));
  const run = async (): Promise<Float32Array[]> => {
    const bn = new BatchNorm('bn', 8, 0.9, 1e-5);
    const ctx = new ForwardContext('train');
    const ids = bn.buffers().map((b) => b.value.dataId);
    tf.tidy(() => {
      bn.forward(tf.tensor(x, [4, 3, 3, 8]), ctx);
    });
    if (tf.getBackend() === 'webgpu') {
      assert.deepEqual(
        bn.buffers().map((b, i) => b.value.dataId === ids[i]),
        [true, true],
        'running statistics not updated in place (fused into the statistics pass)',
      );
    }
    const out = await Promise.all(bn.buffers().map(async (b) => (await b.value.data()) as Float32Array));
    tf.dispose([...bn.params(), ...bn.buffers()].map((p) => p.value));
    return out;
  };
  const { want, got } = await onCpuThenGpu(run);
  assert.ok(relErr(got[0], want[0]) <= TOLERANCE, 'running mean');
  assert.ok(relErr(got[1], want[1]) <= TOLERANCE, 'running variance');
});
