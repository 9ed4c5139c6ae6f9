// Each learning rule's defining equation, checked numerically.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { angleBetween } from '../../src/metrics/angles.js';
import { FeedbackConv2d } from '../../src/models/layers/conv.js';
import { FeedbackDense } from '../../src/models/layers/dense.js';
import { type FeedbackLayer, ForwardContext, type Param } from '../../src/models/layers/types.js';
import { fakeBatch, randomArray, ruleFor, smallEngine, take, useBackend } from '../helpers.js';

function layerBackward(layer: FeedbackLayer, x: tf.Tensor, dy: tf.Tensor, feedback: tf.Tensor) {
  const ctx = new ForwardContext('train');
  layer.forward(x, ctx);
  const grads = new Map<Param, tf.Tensor>();
  const dx = layer.backward(dy, ctx, { feedback: () => feedback, grads });
  return { dx, dW: grads.get(layer.W) as tf.Tensor };
}

test('FA conv: dx = conv-transpose(dy, B) exactly, dW = backprop dW', async () => {
  await useBackend('cpu');
  for (const stride of [1, 2]) {
    const layer = new FeedbackConv2d('c', { kernel: 3, inChannels: 3, outChannels: 4, stride }, 1);
    const rule = ruleFor('fa', [layer]);
    const x = tf.tensor4d(randomArray(2 * 8 * 8 * 3, 1), [2, 8, 8, 3]);
    const ho = stride === 1 ? 8 : 4;
    const dy = tf.tensor4d(randomArray(2 * ho * ho * 4, 2), [2, ho, ho, 4]);
    const fa = layerBackward(layer, x, dy, rule.feedback(layer) as tf.Tensor);
    const bp = layerBackward(layer, x, dy, layer.W.value);
    const B = layer.B?.value as tf.Tensor4D;
    const expected = tf.conv2dTranspose(dy, B, [2, 8, 8, 3], stride, 1);
    const faDx = take(fa.dx);
    assert.deepEqual(faDx, take(expected));
    assert.deepEqual(take(fa.dW), take(bp.dW));
    assert.notDeepEqual(faDx, take(bp.dx), 'FA must not send δ through W');
  }
});

test('FA dense: dx = dy·Bᵀ exactly, dW = backprop dW', async () => {
  await useBackend('cpu');
  const layer = new FeedbackDense('d', 6, 4, 1);
  const rule = ruleFor('fa', [layer]);
  const x = tf.tensor2d(randomArray(5 * 6, 1), [5, 6]);
  const dy = tf.tensor2d(randomArray(5 * 4, 2), [5, 4]);
  const fa = layerBackward(layer, x, dy, rule.feedback(layer) as tf.Tensor);
  const bp = layerBackward(layer, x, dy, layer.W.value);
  assert.deepEqual(take(fa.dx), take(tf.matMul(dy, layer.B?.value as tf.Tensor2D, false, true)));
  assert.deepEqual(take(fa.dW), take(bp.dW));
});

test('FA: B is independent of W and stays fixed while W learns', async () => {
  await useBackend('cpu');
  const engine = smallEngine({ rule: { name: 'fa' } });
  const before = engine.layers.map((l) => take(tf.clone(l.B?.value as tf.Tensor)));
  const w0 = engine.layers.map((l) => take(tf.clone(l.W.value)));
  for (let i = 0; i < 3; i++) engine.trainStep(fakeBatch(4, 8, i), 0.1);
  engine.layers.forEach((l, i) => {
    assert.deepEqual(take(tf.clone(l.B?.value as tf.Tensor)), before[i]);
    assert.notDeepEqual(take(tf.clone(l.W.value)), w0[i]);
    assert.ok(
      take(
        angleBetween(l.B?.value as tf.Tensor, w0[i].length ? tf.tensor(w0[i], l.W.value.shape) : l.W.value),
      )[0] > 60,
    );
  });
  engine.dispose();
});

test('KP: ‖W−B‖ decays exactly as (1−ηλ)^t without momentum (eqs. 13-14)', async () => {
  await useBackend('cpu');
  const [lr, wd, steps] = [0.05, 0.02, 12];
  const engine = smallEngine({ rule: { name: 'kp' }, optimizer: { momentum: 0, weight_decay: wd } });
  const dist = () => engine.layers.map((l) => take(tf.norm(tf.sub(l.W.value, l.B?.value as tf.Tensor)))[0]);
  const d0 = dist();
  for (let t = 0; t < steps; t++) engine.trainStep(fakeBatch(4, 8, t), lr);
  const d = dist();
  const factor = (1 - lr * wd) ** steps;
  d.forEach((v, i) => {
    const rel = Math.abs(v - factor * d0[i]) / (factor * d0[i]);
    assert.ok(rel < 1e-5, `${engine.layers[i].name}: ‖W−B‖ ${v} vs ${factor * d0[i]} (rel ${rel})`);
  });
  engine.dispose();
});

test('KP with momentum: B gets W’s gradient through its own momentum buffer', async () => {
  await useBackend('cpu');
  const engine = smallEngine({ rule: { name: 'kp' } });
  const batch = fakeBatch(4, 8, 1);
  const g = engine.gradients(batch);
  for (const l of engine.layers)
    assert.deepEqual(take(tf.clone(g[`${l.name}/B`])), take(tf.clone(g[`${l.name}/W`])));
  tf.dispose(Object.values(g));
  engine.trainStep(batch, 0.1);
  const state = engine.getState();
  for (const l of engine.layers)
    assert.ok(state.tensors[`opt/${l.name}/B/momentum`], 'B has a momentum buffer');
  tf.dispose(Object.values(state.tensors));
  engine.dispose();
});

test('SS: sign(B) = sign(W) after every step; xiao and usf magnitudes per layer', async () => {
  await useBackend('cpu');
  for (const variant of ['xiao', 'usf', 'brsf', 'frsf']) {
    const engine = smallEngine({ rule: { name: 'ss', ss_variant: variant } });
    for (let t = 0; t < 4; t++) {
      engine.trainStep(fakeBatch(4, 8, t), 0.5);
      for (const l of engine.layers) {
        const B = l.B?.value as tf.Tensor;
        assert.deepEqual(take(tf.sign(B)), take(tf.sign(l.W.value)), `${variant} ${l.name} step ${t}`);
        const expected = {
          // [7]'s code: sqrt(2/(k·k·C_out)) for convs, 1/sqrt(in_features) for the dense layer
          xiao: l.kind === 'conv' ? Math.sqrt(2 / l.fanOut) : 1 / Math.sqrt(l.fanIn),
          usf: Math.sqrt(2 / (l.fanIn + l.fanOut)),
        }[variant];
        if (expected !== undefined) {
          const mags = new Set(Array.from(take(tf.abs(B))).map((v) => v.toPrecision(6)));
          assert.deepEqual([...mags], [Math.fround(expected).toPrecision(6)], `${variant} ${l.name}`);
        }
      }
    }
    engine.dispose();
  }
});

function mirrorAngle(layer: FeedbackLayer, steps: number, cfg: object): number {
  const rule = ruleFor('wm', [layer], { wm: cfg });
  for (let i = 0; i < steps; i++) rule.warmupStep();
  return take(angleBetween(layer.B?.value as tf.Tensor, layer.W.value))[0];
}

// With the paper's η_B = 0.1 and λ_WM = 0.5, B is an average of the last few covariance
// estimates, so its angle to W is set by the estimate's noise: ~1/sqrt(pairs per weight).
for (const [stride, mirrorBatch] of [
  [1, 256],
  [2, 1024],
]) {
  test(`WM: mirroring a random conv layer (stride ${stride}) drives the matrix angle below 5°`, async () => {
    await useBackend('cpu');
    const layer = new FeedbackConv2d('c', { kernel: 3, inChannels: 8, outChannels: 8, stride }, 5);
    layer.inputShape = [8, 8, 8];
    const start = take(angleBetween(ruleFor('fa', [layer]).feedback(layer) as tf.Tensor, layer.W.value))[0];
    const angle = mirrorAngle(layer, 20, { mirror_batch_size: mirrorBatch });
    assert.ok(start > 60, `random B starts far from W (${start}°)`);
    assert.ok(angle < 5, `matrix angle after mirroring ${angle}°`);
  });
}

test('a non-finite B gives a NaN angle, not a plausible 180° (cpu and wasm)', async () => {
  for (const backend of ['cpu', 'wasm'] as const) {
    await useBackend(backend);
    const [a, b] = [tf.tensor([1, Number.NaN, 2]), tf.tensor([1, 2, 3])];
    assert.ok(Number.isNaN(take(angleBetween(a, b))[0]), backend);
    assert.ok(Math.abs(take(angleBetween(b, tf.neg(b)))[0] - 180) < 0.1, backend);
    tf.dispose([a, b]);
  }
});

test('WM: on 1x1 maps the taps that meet only padding get no covariance (B stays finite)', async () => {
  for (const backend of ['cpu', 'wasm'] as const) {
    await useBackend(backend);
    const layer = new FeedbackConv2d('c', { kernel: 3, inChannels: 8, outChannels: 8, stride: 1 }, 5);
    layer.inputShape = [1, 1, 8];
    for (const b_scale of ['none', 'match_w_norm']) {
      const rule = ruleFor('wm', [layer], { wm: { mirror_batch_size: 64, b_scale } });
      for (let i = 0; i < 3; i++) rule.warmupStep();
      const B = take(layer.B?.value as tf.Tensor);
      assert.ok(B.every(Number.isFinite), `${backend}, ${b_scale}: B has non-finite entries`);
      // The centre tap (the only one that meets a pixel) learns; the 8 others decay to 0.
      const tap = (t: number) => B.slice(t * 64, (t + 1) * 64);
      assert.ok(tap(4).some((v) => v !== 0));
      if (b_scale === 'none')
        assert.ok(Math.max(...tap(0).map(Math.abs)) < Math.max(...tap(4).map(Math.abs)));
    }
  }
});

test('WM: mirroring a dense layer drives the matrix angle below 5°', async () => {
  await useBackend('cpu');
  const layer = new FeedbackDense('d', 32, 10, 5);
  layer.inputShape = [32];
  const angle = mirrorAngle(layer, 40, { mirror_batch_size: 2048, lambda_wm: 0.1, eta_b: 0.05 });
  assert.ok(angle < 5, `matrix angle after mirroring ${angle}°`);
});
