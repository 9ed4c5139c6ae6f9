// The hand-written backward pass under backprop must equal tfjs autodiff of the same forward pass.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
// tfjs-core's node bundle registers no gradients; tfjs-layers does (test-only dependency).
import '@tensorflow/tfjs-layers';
import { softmaxCrossEntropy } from '../../src/backend/ops/softmax_cross_entropy.js';
import { ForwardContext } from '../../src/models/layers/types.js';
import { batchToTensors } from '../../src/train/input.js';
import { fakeBatch, fakeInfo, maxAbsDiff, relErr, smallEngine, take, useBackend } from '../helpers.js';

async function compare(arch: string, hw: number, bn: string, width: number) {
  await useBackend('cpu');
  const engine = smallEngine({ arch, hw, bn, width });
  const batch = fakeBatch(4, hw, 7);
  const manual = engine.gradients(batch);
  const params = engine.model.params();
  for (const p of params) p.value.trainable = true;
  const { grads } = tf.variableGrads(
    () => {
      const { x, y } = batchToTensors(batch, fakeInfo(hw));
      const logits = engine.model.forward(x, new ForwardContext('probe')) as tf.Tensor2D;
      return softmaxCrossEntropy(logits, y, false).loss;
    },
    params.map((p) => p.value),
  );
  assert.equal(Object.keys(manual).length, params.length, 'one gradient per parameter');
  for (const p of params) {
    const a = take(manual[p.name]);
    const b = take(grads[p.value.name]);
    // Relative to the gradient's own scale, with an absolute floor for gradients that are
    // exactly zero in theory (e.g. a BN shift cancelled by the next BN) and float noise in practice.
    const e = maxAbsDiff(a, b);
    const scale = Math.max(...b.map(Math.abs));
    assert.ok(
      e <= 1e-4 * scale + 1e-6,
      `${arch} ${p.name}: max diff ${e} at scale ${scale} (rel ${relErr(a, b)})`,
    );
  }
  engine.dispose();
}

test('ResNet-20 (BN after ReLU) backward equals autodiff', () => compare('resnet20', 8, 'after_relu', 0.25));
test('ResNet-20 (BN before ReLU) backward equals autodiff', () =>
  compare('resnet20', 8, 'before_relu', 0.25));
test('ResNet-18 (7x7 stem, max pool, projections) backward equals autodiff', () =>
  compare('resnet18', 32, 'after_relu', 0.125));
test('ResNet-50 (bottlenecks) backward equals autodiff', () =>
  compare('resnet50', 32, 'before_relu', 0.0625));
