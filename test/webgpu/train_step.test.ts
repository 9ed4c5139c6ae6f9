/**
 * One whole training step on webgpu = the same step on cpu, for every learning rule:
 * every tensor of the trainer's state (weights, B, momentum buffers, BatchNorm
 * statistics) changes by the same amount within 1e-4 of the largest change
 * (scripts/bench-gpu/numerics.ts, which the GPU benchmark also runs). This covers the
 * fused webgpu paths together: grouped SGD, BatchNorm with the ReLU and running
 * statistics folded in, the loss head, and each rule's feedback path.
 *
 * ResNet-20 at width 1/8, 16 px, batch 2. (ResNet-18 needs 64 px here: on 1x1 maps a
 * BN → 3x3 conv (centre tap only) → BN chain makes some updates pure rounding noise,
 * e.g. dβ = Σ dy = 0, which no relative comparison can judge.)
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { compareWithCpu } from '../../scripts/bench-gpu/numerics.js';
import { RULE_NAMES } from '../../src/rules/registry.js';
import { fakeBatch, smallEngine } from '../helpers.js';
import { useWebgpu } from './gpu.js';

for (const rule of RULE_NAMES) {
  test(`one ${rule.toUpperCase()} training step, ResNet-20: webgpu = cpu for every state tensor`, async (t) => {
    if (!(await useWebgpu(t))) return;
    const net = {
      arch: 'resnet20' as const,
      width: 0.125,
      batch: 2,
      size: 16,
      label: 'resnet20 w1/8 b2 16px',
    };
    const before = tf.memory().numTensors;
    const r = await compareWithCpu(net, rule);
    // Both trainers built, stepped and disposed: nothing may be left (rules' own tensors included).
    assert.equal(tf.memory().numTensors, before, 'tensors left behind');
    assert.ok(r.tensors > 100, `only ${r.tensors} state tensors compared`);
    assert.ok(r.ok, `${r.worstTensor}: rel. error ${r.worstRelErr.toExponential(2)} > ${r.tolerance}`);
  });
}

test('webgpu: a snapshot survives the steps after it (no in-place write into shared buffers); setState continues exactly', async (t) => {
  if (!(await useWebgpu(t))) return;
  const batches = [0, 1, 2, 3].map((i) => fakeBatch(4, 8, i));
  const read = async (s: Record<string, tf.Tensor>) => {
    const out: Record<string, number[]> = {};
    for (const [k, v] of Object.entries(s)) out[k] = Array.from(await v.data());
    tf.dispose(Object.values(s));
    return out;
  };
  for (const rule of ['kp', 'wm', 'dfa'] as const) {
    const before = tf.memory().numTensors;
    const a = smallEngine({ rule: { name: rule } });
    a.trainStep(batches[0], 0.1);
    a.trainStep(batches[1], 0.1);
    const snap = a.getState(); // clones share a's buffers until a's next update
    a.trainStep(batches[2], 0.1);
    a.trainStep(batches[3], 0.1);
    // Same config (WM's mirror noise is seeded from it); every tensor comes from the snapshot.
    const b = smallEngine({ rule: { name: rule } });
    b.setState(snap);
    tf.dispose(Object.values(snap.tensors));
    b.trainStep(batches[2], 0.1);
    b.trainStep(batches[3], 0.1);
    const [sa, sb] = [await read(a.getState().tensors), await read(b.getState().tensors)];
    for (const k of Object.keys(sa)) assert.deepEqual(sb[k], sa[k], `${rule} ${k}`);
    a.dispose();
    b.dispose();
    assert.equal(tf.memory().numTensors, before, `${rule}: tensors left behind`);
  }
});
