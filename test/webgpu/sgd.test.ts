/**
 * The fused SGD step equals src/train/optimizer.ts's Sgd on the cpu backend over three
 * steps (momentum state carried): Nesterov, heavy ball, and no momentum, with decay.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { webgpuSgdUpdate } from '../../src/backend/webgpu/sgd.js';
import { optimizerConfigSchema } from '../../src/train/config.js';
import { Sgd } from '../../src/train/optimizer.js';
import { randomArray, relErr } from '../helpers.js';
import { TOLERANCE, useWebgpu } from './gpu.js';

const SHAPE = [3, 3, 8, 16];
const STEPS = 3;
const LR = 0.1;

for (const { momentum, nesterov } of [
  { momentum: 0.9, nesterov: true },
  { momentum: 0.9, nesterov: false },
  { momentum: 0, nesterov: false },
]) {
  test(`sgdUpdate webgpu = Sgd on cpu: momentum ${momentum}, nesterov ${nesterov}, decay 1e-4`, async (t) => {
    if (!(await useWebgpu(t))) return;
    const size = SHAPE.reduce((a, b) => a * b);
    const p0 = randomArray(size, 1);
    const grads = Array.from({ length: STEPS }, (_, i) => randomArray(size, 2 + i));
    const cfg = optimizerConfigSchema.parse({ momentum, nesterov, weight_decay: 1e-4 });

    await tf.setBackend('cpu');
    const ref = { name: 'w', value: tf.variable(tf.tensor(p0, SHAPE)), isWeight: true };
    const sgd = new Sgd(cfg);
    for (const g of grads) tf.tidy(() => sgd.step([[ref, tf.tensor(g, SHAPE)]], LR));
    const want = (await ref.value.data()) as Float32Array;
    ref.value.dispose();
    sgd.dispose?.();

    await tf.setBackend('webgpu');
    const p = tf.variable(tf.tensor(p0, SHAPE));
    const v = momentum > 0 ? tf.variable(tf.zeros(SHAPE)) : null;
    const before = tf.memory().numTensors;
    for (const g of grads) {
      const gt = tf.tensor(g, SHAPE);
      webgpuSgdUpdate(p, gt, v, { lr: LR, momentum, weightDecay: 1e-4, nesterov });
      gt.dispose();
    }
    assert.equal(tf.memory().numTensors, before, 'tensors leaked');
    const got = (await p.data()) as Float32Array;
    tf.dispose([p, ...(v ? [v] : [])]);
    const err = relErr(
      got.map((x, i) => x - p0[i]),
      want.map((x, i) => x - p0[i]),
    );
    assert.ok(err <= TOLERANCE, `update rel. error ${err.toExponential(2)} > ${TOLERANCE}`);
  });
}
