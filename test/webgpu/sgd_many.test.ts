/**
 * The grouped in-place SGD step (sgd_many.ts) equals src/train/optimizer.ts's Sgd on
 * the cpu backend over three steps: 13 parameters of mixed sizes and two weight decays
 * (several groups, a partial last group), Nesterov, heavy ball and no momentum. Also:
 * a parameter that shares its buffer with another live tensor is not written in place
 * (that tensor keeps its values), and values read before a step are not served stale
 * after it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { sgdUpdateMany } from '../../src/backend/ops/sgd_update.js';
import { sgdManyShader } from '../../src/backend/webgpu/sgd_many.js';
import type { Param } from '../../src/models/layers/types.js';
import { optimizerConfigSchema } from '../../src/train/config.js';
import { Sgd } from '../../src/train/optimizer.js';
import { randomArray, relErr } from '../helpers.js';
import { onCpuThenGpu, TOLERANCE, useWebgpu } from './gpu.js';

const SHAPES = [
  [3, 3, 4, 8],
  [8],
  [8],
  [1, 1, 8, 16],
  [16],
  [16],
  [300],
  [5, 7],
  [1],
  [2, 2],
  [64, 10],
  [10],
  [3],
];
const STEPS = 3;
const LR = 0.05;

function params(): Param[] {
  return SHAPES.map((shape, i) => ({
    name: `p${i}`,
    value: tf.tidy(() => tf.variable(tf.tensor(randomArray(tf.util.sizeFromShape(shape), 10 + i), shape))),
    isWeight: shape.length > 1,
  }));
}

function grads(step: number): tf.Tensor[] {
  return SHAPES.map((shape, i) =>
    tf.tensor(randomArray(tf.util.sizeFromShape(shape), 100 * step + i), shape),
  );
}

async function values(ps: Param[]): Promise<Float32Array[]> {
  return Promise.all(ps.map(async (p) => (await p.value.data()) as Float32Array));
}

for (const { momentum, nesterov } of [
  { momentum: 0.9, nesterov: true },
  { momentum: 0.9, nesterov: false },
  { momentum: 0, nesterov: false },
]) {
  test(`sgdUpdateMany webgpu = Sgd on cpu: momentum ${momentum}, nesterov ${nesterov}`, async (t) => {
    if (!(await useWebgpu(t))) return;
    const cfg = optimizerConfigSchema.parse({ momentum, nesterov, weight_decay: 1e-3 });
    const run = async (): Promise<Float32Array[]> => {
      const ps = params();
      const ids = ps.map((p) => p.value.dataId);
      const sgd = new Sgd(cfg);
      for (let s = 0; s < STEPS; s++) {
        const gs = grads(s);
        sgd.step(
          ps.map((p, i) => [p, gs[i]] as [Param, tf.Tensor]),
          LR,
        );
        tf.dispose(gs);
      }
      const out = await values(ps);
      if (tf.getBackend() === 'webgpu') {
        const moved = ps.filter((p, i) => p.value.dataId !== ids[i]).map((p) => p.name);
        assert.deepEqual(moved, [], 'parameters not updated in place');
      }
      sgd.dispose();
      tf.dispose(ps.map((p) => p.value));
      return out;
    };
    const { want, got } = await onCpuThenGpu(run);
    // Compare the changes (p − p0), not the values, so the tolerance judges the update.
    for (let i = 0; i < SHAPES.length; i++) {
      const p0 = randomArray(tf.util.sizeFromShape(SHAPES[i]), 10 + i);
      const change = (p: Float32Array) => p.map((v, j) => v - p0[j]);
      const err = relErr(change(got[i]), change(want[i]));
      assert.ok(err <= TOLERANCE, `p${i} change: rel. error ${err.toExponential(2)} > ${TOLERANCE}`);
    }
  });
}

test('sgdUpdateMany webgpu: shared buffers are not written in place; reads are not stale', async (t) => {
  if (!(await useWebgpu(t))) return;
  const before = tf.memory().numTensors;
  const [a, b] = tf.tidy(() => [tf.variable(tf.tensor([1, 2, 3, 4])), tf.variable(tf.tensor([5, 6, 7, 8]))]);
  const g = tf.tensor([1, 1, 1, 1]);
  const alias = tf.reshape(a, [2, 2]); // shares a's buffer
  assert.deepEqual([...(await b.data())], [5, 6, 7, 8]); // tfjs now caches b's values on the CPU
  const [aId, bId] = [a.dataId, b.dataId];
  sgdUpdateMany(
    [
      { param: a, grad: g, velocity: null, weightDecay: 0 },
      { param: b, grad: g, velocity: null, weightDecay: 0 },
    ],
    { lr: 0.5, momentum: 0, nesterov: false },
  );
  assert.deepEqual([...(await a.data())], [0.5, 1.5, 2.5, 3.5]);
  assert.ok(a.dataId !== aId && b.dataId === bId, 'a took the copying path, b the in-place one');
  assert.deepEqual([...(await alias.data())], [1, 2, 3, 4], 'a tensor sharing the buffer changed');
  assert.deepEqual([...(await b.data())], [4.5, 5.5, 6.5, 7.5], 'stale CPU copy after the in-place write');
  tf.dispose([a, b, g, alias]);
  assert.equal(tf.memory().numTensors, before, 'the copying path left tensors behind');
});

test('sgdManyShader: one branch per parameter, p and v writable, g read-only', () => {
  const code = sgdManyShader('nesterov', 2);
  assert.match(code, /@binding\(0\) var<storage, read_write> p0/);
  assert.match(code, /@binding\(1\) var<storage, read_write> v0/);
  assert.match(code, /@binding\(2\) var<storage, read> g0/);
  assert.match(code, /@binding\(6\) var<uniform> u/);
  assert.equal(code.match(/if \(i < u\.end/g)?.length, 2);
  assert.doesNotMatch(sgdManyShader('plain', 1), /v0/);
});
