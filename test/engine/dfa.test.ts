// Direct feedback alignment (src/rules/dfa.ts): its defining equations, checked numerically.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
// Registers tfjs's gradients for the autodiff reference (as test/engine/backward.test.ts does).
import '@tensorflow/tfjs-layers';
import { softmaxCrossEntropy } from '../../src/backend/ops/softmax_cross_entropy.js';
import { FeedbackConv2d } from '../../src/models/layers/conv.js';
import { FeedbackDense } from '../../src/models/layers/dense.js';
import { type FeedbackLayer, ForwardContext, type Param } from '../../src/models/layers/types.js';
import { batchToTensors } from '../../src/train/input.js';
import { fakeBatch, randomArray, relErr, ruleFor, smallEngine, take, useBackend } from '../helpers.js';

/** first conv → conv under test → dense head (5 classes), input shapes set as a forward pass would. */
function threeLayers() {
  const first = new FeedbackConv2d('first', { kernel: 3, inChannels: 3, outChannels: 4, stride: 1 }, 1);
  const conv = new FeedbackConv2d('conv', { kernel: 3, inChannels: 4, outChannels: 6, stride: 2 }, 2);
  const head = new FeedbackDense('fc', 6, 5, 3);
  first.inputShape = [8, 8, 3];
  conv.inputShape = [8, 8, 4];
  head.inputShape = [6];
  return { first, conv, head };
}

test('DFA: a layer sends reshape(δ_L·B_lᵀ) below it whatever δ reaches it, and learns with the usual ΔW (eq. 4)', async () => {
  await useBackend('cpu');
  const { first, conv, head } = threeLayers();
  const rule = ruleFor('dfa', [first, conv, head]);
  const [n, classes, size] = [2, 5, 8 * 8 * 4];
  const deltaL = tf.tensor2d(randomArray(n * classes, 3), [n, classes]);
  const x = tf.tensor4d(randomArray(n * size, 1), [n, 8, 8, 4]);
  const dy = tf.tensor4d(randomArray(n * 4 * 4 * 6, 2), [n, 4, 4, 6]);
  const ctx = new ForwardContext('train');
  conv.forward(x, ctx);
  const grads = new Map<Param, tf.Tensor>();
  const dx = conv.backward(dy, ctx, {
    feedback: () => assert.fail('DFA sends no δ through a feedback kernel below the head'),
    directDelta: (l) => rule.directDelta(l, deltaL),
    grads,
  });
  // B_l: [size of the layer's input, classes], He-normal with fan-in = that size.
  const B = take(tf.clone(conv.B?.value as tf.Tensor));
  assert.deepEqual(conv.B?.value.shape, [size, classes]);
  const std = Math.sqrt(B.reduce((s, v) => s + v * v, 0) / B.length);
  assert.ok(Math.abs(std / Math.sqrt(2 / size) - 1) < 0.1, `B's std ${std}`);
  // δ_x[n, i] = Σ_k δ_L[n, k] B[i, k], in the layer's input shape.
  const e = take(tf.clone(deltaL));
  const expected = Float32Array.from({ length: n * size }, (_, j) => {
    const [s, i] = [Math.floor(j / size), j % size];
    let sum = 0;
    for (let k = 0; k < classes; k++) sum += e[s * classes + k] * B[i * classes + k];
    return sum;
  });
  assert.deepEqual(dx.shape, x.shape);
  assert.ok(relErr(take(dx), expected) < 1e-6);
  assert.deepEqual(take(grads.get(conv.W) as tf.Tensor), take(conv.weightGrad(x, dy)));
  // The head keeps eq. 3 through its B of W's shape (its δ is δ_L itself); the first layer gets no B.
  assert.equal(rule.directDelta(head, deltaL), null);
  assert.equal(rule.feedback(head), head.B?.value);
  assert.equal(rule.feedback(conv), null);
  assert.equal(first.B, null);
  // ... and that B is FA's (same seeds), so DFA's head is FA's.
  const dfaHead = take(tf.clone(head.B?.value as tf.Tensor));
  ruleFor('fa', [first, conv, head]);
  assert.deepEqual(take(tf.clone(head.B?.value as tf.Tensor)), dfaHead);
});

// Nøkland's δa_l = (B_l e) ⊙ f'(a_l): in a ResNet branch, conv1's unit (conv → ReLU → BN, or
// conv → BN → ReLU) feeds only conv2, so conv1 learns from conv2's projection of δ_L passed back
// through the unit's own ReLU and BatchNorm, here differentiated by tfjs autodiff.
for (const bn of ['after_relu', 'before_relu']) {
  test(`DFA in a ResNet (${bn}): ΔW of a branch's conv1 = x ⋆ unit'(reshape(δ_L·B_conv2ᵀ))`, async () => {
    await useBackend('cpu');
    const engine = smallEngine({ rule: { name: 'dfa' }, bn });
    const batch = fakeBatch(4, 8, 1);
    const got = engine.gradients(batch);
    const layer = (name: string) => engine.layers.find((l) => l.name === name) as FeedbackLayer;
    const [conv1, conv2] = [layer('stage2/block2/conv1'), layer('stage2/block2/conv2')];
    const param = (p: string) =>
      (engine.model.params().find((q) => q.name === `${conv1.name}/bn/${p}`) as Param).value;
    const expected = tf.tidy(() => {
      const { x, y } = batchToTensors(batch, engine.info);
      const ctx = new ForwardContext('probe', true);
      const { dLogits } = softmaxCrossEntropy(engine.model.forward(x, ctx) as tf.Tensor2D, y);
      const io = ctx.io?.get(conv1) as { x: tf.Tensor; y: tf.Tensor };
      const fromAbove = tf.reshape(
        tf.matMul(dLogits, conv2.B?.value as tf.Tensor2D, false, true),
        io.y.shape,
      );
      const norm = (t: tf.Tensor) => {
        const { mean, variance } = tf.moments(t, [0, 1, 2]);
        return tf.add(
          tf.mul(tf.div(tf.sub(t, mean), tf.sqrt(tf.add(variance, 1e-5))), param('gamma')),
          param('beta'),
        );
      };
      const unit = (z: tf.Tensor) => (bn === 'after_relu' ? norm(tf.relu(z)) : tf.relu(norm(z)));
      const delta = tf.grad((z: tf.Tensor) => tf.sum(tf.mul(unit(z), fromAbove)))(io.y);
      return conv1.weightGrad(io.x, delta);
    });
    const e = relErr(take(got[`${conv1.name}/W`]), take(expected));
    assert.ok(e < 1e-4, `rel. error ${e}`);
    tf.dispose(Object.values(got));
    engine.dispose();
  });
}

test('DFA angles: a matrix angle only at the head (NaN elsewhere), a δ angle everywhere, 0 at the head', async () => {
  await useBackend('cpu');
  const engine = smallEngine({ rule: { name: 'dfa' } });
  const angles = await engine.angles(fakeBatch(8, 8, 2));
  const head = angles.at(-1);
  assert.ok(head && Number.isFinite(head.matrixAngle) && head.deltaAngle < 1e-3);
  for (const a of angles.slice(0, -1)) assert.ok(Number.isNaN(a.matrixAngle), a.layer);
  assert.ok(angles.every((a) => Number.isFinite(a.deltaAngle)));
  engine.dispose();
});

test('DFA refuses feedback matrices above 1 GiB, naming the largest (an ImageNet stem output, 1000 classes)', async () => {
  await useBackend('cpu');
  const { first, conv } = threeLayers();
  const head = new FeedbackDense('fc', 512, 1000, 3);
  conv.inputShape = [112, 112, 64];
  head.inputShape = [512];
  assert.throws(
    () => ruleFor('dfa', [first, conv, head]),
    /3\.0 GiB; conv alone \[802816, 1000\].*smaller images/,
  );
  assert.equal(conv.B, null, 'nothing allocated');
});
