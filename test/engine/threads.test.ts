// backend.threads > 1 on wasm: convolutions split over the batch across worker threads.
// The split results must equal one thread's, and a stuck or failing worker must never
// hang a run (the watchdog computes its part on the main thread and drops to 1 thread).
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/backend/index.js';
import { conv2d, convOutSize } from '../../src/backend/ops/conv2d.js';
import { conv2dFilterGrad } from '../../src/backend/ops/conv2d_filter_grad.js';
import { conv2dInputGrad } from '../../src/backend/ops/conv2d_input_grad.js';
import { startWasmThreads, stopWasmThreads } from '../../src/backend/wasm/threads/index.js';
import { fakeBatch, maxAbsDiff, randomArray, relErr, smallEngine, take, useBackend } from '../helpers.js';

type Shape4 = [number, number, number, number];
// [x shape, filter shape, stride, pad], odd batches too (split however small: minSplitMacs 0).
const CASES: Array<[Shape4, Shape4, number, number]> = [
  [[8, 32, 32, 16], [3, 3, 16, 16], 1, 1],
  [[7, 32, 32, 16], [3, 3, 16, 32], 2, 1],
  [[5, 16, 16, 32], [1, 1, 32, 64], 2, 0],
  [[3, 28, 28, 8], [7, 7, 8, 16], 2, 3],
];

function convs(xs: Shape4, fs: Shape4, s: number, p: number) {
  const dyShape: Shape4 = [xs[0], convOutSize(xs[1], fs[0], s, p), convOutSize(xs[2], fs[1], s, p), fs[3]];
  const size = (sh: number[]) => sh.reduce((a, b) => a * b, 1);
  const x = tf.tensor4d(randomArray(size(xs), 1), xs);
  const f = tf.tensor4d(randomArray(size(fs), 2), fs);
  const dy = tf.tensor4d(randomArray(size(dyShape), 3), dyShape);
  const out = {
    y: take(conv2d(x, f, s, p)),
    dx: take(conv2dInputGrad(dy, f, xs, s, p)),
    dW: take(conv2dFilterGrad(x, dy, fs, s, p)),
  };
  tf.dispose([x, f, dy]);
  return out;
}

after(() => stopWasmThreads());

test('2 wasm threads give one thread’s convolutions (y and δ exactly, ΔW to rounding)', async () => {
  for (const [xs, fs, s, p] of CASES) {
    await useBackend('wasm');
    const one = convs(xs, fs, s, p);
    const pool = await startWasmThreads(2, { minSplitMacs: 0 }); // split even these small test shapes
    const before = tf.memory().numTensors;
    const two = convs(xs, fs, s, p);
    assert.equal(pool.splitJobs, 3, 'forward, input and filter gradient each split');
    assert.equal(tf.memory().numTensors, before, 'tensors leaked');
    const what = `x=${xs} k=${fs} s=${s}`;
    assert.ok(relErr(two.y, one.y) < 1e-6, `${what}: forward rel err ${relErr(two.y, one.y)}`);
    assert.ok(relErr(two.dx, one.dx) < 1e-6, `${what}: input grad rel err ${relErr(two.dx, one.dx)}`);
    assert.ok(relErr(two.dW, one.dW) < 1e-5, `${what}: filter grad rel err ${relErr(two.dW, one.dW)}`);
  }
});

test('a ResNet-20 step on 2 wasm threads matches 1 thread, tensor count flat', async () => {
  const grads = async (threads: number) => {
    await useBackend('wasm');
    const pool = threads > 1 ? await startWasmThreads(threads, { minSplitMacs: 0 }) : null;
    const engine = smallEngine({ arch: 'resnet20', width: 1, hw: 32, rule: { name: 'kp' } });
    const batch = fakeBatch(6, 32, 1);
    const g = engine.gradients(batch);
    // KP's B and W share one gradient tensor: copy everything first, then dispose once.
    const out = Object.fromEntries(Object.entries(g).map(([k, v]) => [k, Float32Array.from(v.dataSync())]));
    tf.dispose(Object.values(g));
    engine.trainStep(batch, 0.05);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) engine.trainStep(batch, 0.05);
    assert.equal(tf.memory().numTensors, before, `${threads} threads: tensors leaked`);
    if (pool) assert.ok(pool.splitJobs > 100, `only ${pool.splitJobs} convolutions split`);
    engine.dispose();
    return out;
  };
  const one = await grads(1);
  const two = await grads(2);
  for (const [name, ref] of Object.entries(one)) {
    const scale = Math.max(...ref.map(Math.abs));
    const e = maxAbsDiff(two[name], ref);
    assert.ok(e <= 1e-4 * scale + 1e-7, `${name}: max diff ${e}, scale ${scale}`);
  }
});

test('a stuck wasm thread never hangs: the watchdog finishes its part and drops to 1 thread', async () => {
  await useBackend('wasm');
  const [xs, fs, s, p] = CASES[0];
  const ref = convs(xs, fs, s, p);
  const reasons: string[] = [];
  const pool = await startWasmThreads(2, {
    minTimeoutMs: 300,
    minSplitMacs: 0,
    onFallback: (r) => reasons.push(r),
  });
  assert.equal(pool.threads, 2);
  pool.hangNextJobOf(0);
  const t0 = performance.now();
  const got = convs(xs, fs, s, p);
  assert.ok(performance.now() - t0 < 20_000, 'took too long');
  assert.equal(pool.threads, 1);
  assert.equal(reasons.length, 1);
  assert.match(reasons[0], /did not finish its part within \d+ ms; continuing on 1 thread/);
  assert.ok(relErr(got.y, ref.y) < 1e-6 && relErr(got.dx, ref.dx) < 1e-6 && relErr(got.dW, ref.dW) < 1e-5);
  stopWasmThreads();
});

test('threads: 2 is reported in the backend choice; 1 thread is the default', async () => {
  assert.match((await initBackend({ name: 'wasm', threads: 2 })).reason, /2 threads/);
  assert.match((await initBackend({ name: 'wasm', threads: 1 })).reason, /1 thread/);
});
