/**
 * The one-dispatch loss head (webgpu/train_loss.ts) equals the tf-op version on cpu:
 * δ_L, the loss and the top-1/top-k hit counts added to the metric sums (ties broken
 * as tfjs's topk does: lower class first), over two steps and more rows than the
 * workgroup has threads; the first non-finite loss marks its step, once.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { type LossAccumulators, trainLoss } from '../../src/backend/ops/train_loss.js';
import { randomArray, relErr } from '../helpers.js';
import { onCpuThenGpu, TOLERANCE, useWebgpu } from './gpu.js';

interface Result {
  dLogits: Float32Array[];
  sums: Float32Array;
  badStep: number;
}

/** Two steps of trainLoss on the active backend; step 2's logits are `second`. */
async function twoSteps(
  first: Float32Array,
  second: Float32Array,
  labels: Int32Array,
  c: number,
): Promise<Result> {
  const n = labels.length;
  const acc: LossAccumulators = {
    sums: tf.tidy(() => tf.variable(tf.zeros([4]))),
    badStep: tf.tidy(() => tf.variable(tf.scalar(-1))),
    step: 1,
  };
  const ids = [acc.sums.dataId, acc.badStep.dataId];
  const dLogits: Float32Array[] = [];
  for (const logits of [first, second]) {
    const d = tf.tidy(() => trainLoss(tf.tensor2d(logits, [n, c]), tf.tensor1d(labels, 'int32'), acc));
    dLogits.push((await d.data()) as Float32Array);
    d.dispose();
    acc.step++;
  }
  if (tf.getBackend() === 'webgpu') {
    assert.ok(
      acc.sums.dataId === ids[0] && acc.badStep.dataId === ids[1],
      'accumulators not updated in place',
    );
  }
  const sums = (await acc.sums.data()) as Float32Array;
  const badStep = (await acc.badStep.data())[0];
  tf.dispose([acc.sums, acc.badStep]);
  return { dLogits, sums, badStep };
}

const compare = (first: Float32Array, second: Float32Array, labels: Int32Array, c: number) =>
  onCpuThenGpu(() => twoSteps(first, second, labels, c));

for (const c of [10, 3]) {
  test(`trainLoss webgpu = cpu: 300 rows x ${c} classes, tied logits, two steps`, async (t) => {
    if (!(await useWebgpu(t))) return;
    const n = 300;
    const labels = Int32Array.from({ length: n }, (_, i) => (i * 7) % c);
    const first = randomArray(n * c, 21).map((v) => Math.round(v * 4) / 2); // many ties
    first.fill(0, 0, 5 * c); // rows 0-4: all classes tied
    const second = randomArray(n * c, 22).map((v) => 3 * v);
    const { want, got } = await compare(first, second, labels, c);
    for (let s = 0; s < 2; s++) {
      const err = relErr(got.dLogits[s], want.dLogits[s]);
      assert.ok(err <= TOLERANCE, `step ${s + 1} dLogits rel. error ${err.toExponential(2)}`);
    }
    assert.ok(
      Math.abs(got.sums[0] - want.sums[0]) <= 1e-5 * Math.abs(want.sums[0]),
      `loss sum ${got.sums[0]} vs ${want.sums[0]}`,
    );
    assert.deepEqual([...got.sums.slice(1)], [...want.sums.slice(1)], 'hit counts and samples');
    assert.equal(got.badStep, -1);
    assert.equal(want.badStep, -1);
  });
}

test('trainLoss webgpu: a NaN logit marks its step as the first bad one; a later one does not move it', async (t) => {
  if (!(await useWebgpu(t))) return;
  const labels = Int32Array.from([0, 1, 2, 3]);
  const first = randomArray(16, 5);
  const second = randomArray(16, 6);
  second[5] = Number.NaN;
  const { want, got } = await compare(first, second, labels, 4);
  assert.equal(want.badStep, 2);
  assert.equal(got.badStep, 2);
  const third = await compare(second, second, labels, 4);
  assert.equal(third.want.badStep, 1);
  assert.equal(third.got.badStep, 1);
});
