// Whole-engine properties: wasm = cpu, flat tensor count, angles, state round trip.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { RULE_NAMES } from '../../src/rules/registry.js';
import { fakeBatch, maxAbsDiff, smallEngine, take, useBackend } from '../helpers.js';

async function gradientsOn(backend: 'cpu' | 'wasm') {
  await useBackend(backend);
  const engine = smallEngine({ arch: 'resnet20', width: 0.5, hw: 16, rule: { name: 'bp' } });
  // A fixed input: ReLU has a kink, so on some inputs a pre-activation within rounding of 0
  // lands on different sides on the two backends and that unit's δ legitimately differs
  // (seen with other seeds: up to 5e-2 in the layers below it). Kernel-level equality is
  // tested in kernels.test.ts on many shapes.
  const g = engine.gradients(fakeBatch(8, 16, 1));
  const out = Object.fromEntries(Object.entries(g).map(([k, v]) => [k, take(v)]));
  engine.dispose();
  return out;
}

test('a whole ResNet-20 step on wasm matches cpu (rel. err < 1e-3 per gradient)', async () => {
  const cpu = await gradientsOn('cpu');
  const wasm = await gradientsOn('wasm');
  assert.deepEqual(Object.keys(wasm).sort(), Object.keys(cpu).sort());
  for (const [name, ref] of Object.entries(cpu)) {
    const scale = Math.max(...ref.map(Math.abs));
    const e = maxAbsDiff(wasm[name], ref);
    assert.ok(e <= 1e-3 * scale + 1e-7, `${name}: max diff ${e}, scale ${scale}`);
  }
});

test('tensor count is flat over 50 training steps for every rule (wasm, the default backend)', async () => {
  await useBackend('wasm');
  for (const name of RULE_NAMES) {
    const engine = smallEngine({ rule: { name, wm: { mirror_batch_size: 4 } } });
    const batch = fakeBatch(4, 8, 1);
    engine.trainStep(batch, 0.05); // creates the momentum buffers
    engine.mirrorStep();
    await engine.takeTrainMetrics();
    (await engine.angles(batch)).length;
    const before = tf.memory().numTensors;
    for (let i = 0; i < 50; i++) engine.trainStep(batch, 0.05);
    engine.mirrorStep();
    await engine.takeTrainMetrics();
    await engine.angles(batch);
    await engine.evaluate(
      (async function* () {
        yield batch;
      })(),
    );
    assert.equal(tf.memory().numTensors, before, `${name}: tensors leaked`);
    engine.dispose();
  }
});

test('evaluate ends every batch with settle() (on webgpu: at most 2 batches queued)', async () => {
  await useBackend('cpu');
  const engine = smallEngine();
  let settled = 0;
  engine.settle = async () => {
    settled++;
  };
  const m = await engine.evaluate(
    (async function* () {
      for (let i = 0; i < 5; i++) yield fakeBatch(2, 8, i);
    })(),
  );
  assert.equal(m.samples, 10);
  assert.equal(settled, 5);
  engine.dispose();
});

test('δ angles: zero under backprop, large under feedback alignment at init', async () => {
  await useBackend('cpu');
  const batch = fakeBatch(8, 8, 2);
  const bp = await smallEngine({ rule: { name: 'bp' } }).angles(batch);
  for (const a of bp) {
    assert.ok(a.matrixAngle < 0.1 && a.deltaAngle < 0.1, `bp ${a.layer}: ${a.matrixAngle}, ${a.deltaAngle}`);
  }
  const fa = await smallEngine({ rule: { name: 'fa' } }).angles(batch);
  const last = fa.at(-1);
  assert.ok(last && last.deltaAngle < 1e-3, 'the output layer receives the true δ_L under every rule');
  const below = fa.slice(0, -2);
  for (const a of below) assert.ok(a.matrixAngle > 60, `fa ${a.layer} matrix angle ${a.matrixAngle}`);
  assert.ok(
    below.some((a) => a.deltaAngle > 45),
    'fa δ angles are far from backprop below the head',
  );
});

test('getState/setState round trip restores the exact continuation, for every rule', async () => {
  await useBackend('cpu');
  const batches = [0, 1, 2, 3].map((i) => fakeBatch(4, 8, i));
  for (const name of RULE_NAMES) {
    const rule = { name, wm: { mirror_batch_size: 4 } };
    const a = smallEngine({ rule });
    a.trainStep(batches[0], 0.1);
    a.trainStep(batches[1], 0.1);
    const snap = a.getState();
    a.trainStep(batches[2], 0.1);
    a.trainStep(batches[3], 0.1);
    // Another model seed: every weight comes from the snapshot (WM's mirror noise is seeded by train.seed).
    const b = smallEngine({ rule, seed: name === 'wm' ? 0 : 99 });
    b.setState(snap);
    tf.dispose(Object.values(snap.tensors));
    b.trainStep(batches[2], 0.1);
    b.trainStep(batches[3], 0.1);
    assert.equal(b.step, 4);
    const sa = a.getState();
    const sb = b.getState();
    assert.deepEqual(sb.scalars, sa.scalars, name);
    for (const k of Object.keys(sa.tensors))
      assert.deepEqual(take(sb.tensors[k]), take(sa.tensors[k]), `${name} ${k}`);
    a.dispose();
    b.dispose();
  }
});
