// Our hand-written SIMD wasm kernels (src/backend/wasm/simd/) must equal the cpu backend.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { compileModules } from '../../scripts/build-wasm.mjs';
import { batchMean } from '../../src/backend/ops/batch_mean.js';
import { batchNormTrain, batchNormTrainGrad } from '../../src/backend/ops/batch_norm_train.js';
import { centredRelu } from '../../src/backend/ops/centred_relu.js';
import { maxPoolGrad } from '../../src/backend/ops/max_pool_grad.js';
import { mirrorUpdate } from '../../src/backend/ops/mirror_update.js';
import { reluBatchNormTrain, reluBatchNormTrainGrad } from '../../src/backend/ops/relu_batch_norm.js';
import { reluGrad } from '../../src/backend/ops/relu_grad.js';
import { type SgdHyper, sgdUpdate } from '../../src/backend/ops/sgd_update.js';
import { signTimes } from '../../src/backend/ops/sign_times.js';
import { simdModules } from '../../src/backend/wasm/simd/index.js';
import { WASM_MODULES_BASE64 } from '../../src/backend/wasm/simd/modules.generated.js';
import { fastTranspose, permutePlan } from '../../src/backend/wasm/simd/permute.js';
import { maxAbsDiff, randomArray, relErr, take, useBackend } from '../helpers.js';

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/**
 * `op` on cpu and on wasm, each on tensors freshly made by `inputs` (disposed after);
 * the op must leave the tensor count as it found it.
 */
async function onCpuAndWasm(inputs: () => tf.Tensor[], op: (ts: tf.Tensor[]) => tf.Tensor[]) {
  const out: Record<string, Float32Array[]> = {};
  for (const backend of ['cpu', 'wasm'] as const) {
    await useBackend(backend);
    const ts = inputs();
    const before = tf.memory().numTensors;
    out[backend] = op(ts).map(take);
    assert.equal(tf.memory().numTensors, before, `${backend}: tensors left behind`);
    tf.dispose(ts);
  }
  return { cpu: out.cpu, wasm: out.wasm };
}

test('modules.generated.ts is up to date with the .wat sources (npm run build:wasm)', async () => {
  assert.deepEqual(await compileModules(), WASM_MODULES_BASE64);
});

test('the SIMD modules join the wasm backend heap', async () => {
  await useBackend('wasm');
  assert.ok(simdModules(), 'simdModules() is null on wasm: the kernels would fall back to stock ops');
});

test('wasm batchNorm stays right when its own outputs grow the heap', async () => {
  await useBackend('wasm');
  const memory = simdModules()?.memory as WebAssembly.Memory;
  const c = 12;
  // x as large as the whole heap now: the heap grows for x, and again for y (no
  // free block that large can be left), so views made before y would be detached.
  const m = Math.ceil(memory.buffer.byteLength / 4 / c);
  const data = randomArray(m * c, 5);
  const x = tf.tensor2d(data, [m, c]);
  const [gamma, beta] = [tf.ones([c]), tf.zeros([c])];
  const heap = memory.buffer.byteLength;
  const { y, mean, variance } = batchNormTrain(x, gamma, beta, 0);
  assert.ok(memory.buffer.byteLength > heap, 'the heap did not grow inside the kernel');
  const [mu, v, yv] = [take(mean), take(variance), take(y)];
  for (let j = 0; j < c; j++) {
    let s = 0;
    for (let r = 0; r < m; r++) s += data[r * c + j];
    const want = s / m;
    let q = 0;
    for (let r = 0; r < m; r++) q += (data[r * c + j] - want) ** 2;
    assert.ok(Math.abs(mu[j] - want) < 1e-6, `mean ${j}: ${mu[j]} vs ${want}`);
    assert.ok(Math.abs(v[j] / (q / m) - 1) < 1e-5, `variance ${j}: ${v[j]} vs ${q / m}`);
    const r = m - 1;
    const yWant = (data[r * c + j] - mu[j]) / Math.sqrt(v[j]);
    assert.ok(Math.abs(yv[r * c + j] - yWant) < 1e-5, `y[${r}, ${j}]`);
  }
  tf.dispose([x, gamma, beta]);
});

// Channels C not a multiple of 4, M odd, tiny, and ResNet-sized.
const BN_SHAPES: number[][] = [
  [1, 1],
  [3, 5],
  [1, 3, 3, 4],
  [2, 3, 3, 7],
  [5, 1, 1, 6],
  [3, 5, 5, 33],
  [2, 4, 4, 3],
  [4, 8, 8, 16],
  [7, 3, 3, 1030],
  [128, 32, 32, 16],
  [128, 8, 8, 64],
];

/** Per channel j: x·(1 + j/C) + offset, so channels differ in mean and spread. */
function bnInputs(shape: number[], offset: number) {
  const c = shape.at(-1) as number;
  const x = randomArray(size(shape), 11);
  for (let i = 0; i < x.length; i++) x[i] = x[i] * (1 + (i % c) / c) + offset;
  return {
    x,
    dy: randomArray(size(shape), 12),
    gamma: Float32Array.from(randomArray(c, 13), (v) => 1 + 0.5 * v),
    beta: randomArray(c, 14),
  };
}

async function bnOn(backend: 'cpu' | 'wasm', shape: number[], offset: number) {
  await useBackend(backend);
  const c = shape.at(-1) as number;
  const d = bnInputs(shape, offset);
  const x = tf.tensor(d.x, shape);
  const dy = tf.tensor(d.dy, shape);
  const gamma = tf.tensor1d(d.gamma);
  const beta = tf.tensor1d(d.beta);
  const before = tf.memory().numTensors;
  const run = () => {
    const fwd = batchNormTrain(x, gamma, beta, 1e-5);
    return { fwd, bwd: batchNormTrainGrad(dy, x, fwd.mean, fwd.variance, gamma, 1e-5) };
  };
  // Stock ops (cpu) leave intermediates to the caller's tidy; ours make none.
  const { fwd, bwd } = backend === 'cpu' ? tf.tidy(run) : run();
  assert.deepEqual(fwd.mean.shape, [c]);
  assert.deepEqual(bwd.dGamma.shape, [c]);
  const out = {
    y: take(fwd.y),
    mean: take(fwd.mean),
    variance: take(fwd.variance),
    dx: take(bwd.dx),
    dGamma: take(bwd.dGamma),
    dBeta: take(bwd.dBeta),
  };
  assert.equal(tf.memory().numTensors, before, `${backend}: tensors leaked`);
  tf.dispose([x, dy, gamma, beta]);
  return out;
}

for (const shape of BN_SHAPES) {
  for (const offset of shape.length === 4 && shape[0] === 128 ? [0.5] : [0, 3]) {
    test(`wasm batchNormTrain + grad match cpu: x=${shape} offset=${offset}`, async () => {
      const cpu = await bnOn('cpu', shape, offset);
      const wasm = await bnOn('wasm', shape, offset);
      for (const k of Object.keys(cpu) as Array<keyof typeof cpu>) {
        const err = relErr(wasm[k], cpu[k]);
        assert.ok(err < 1e-5, `${k}: rel err ${err}`);
      }
    });
  }
}

// The after_relu unit fused (ReLU read inside the BN kernels, dx masked by z > 0) against
// ReLU, BN, BN grad, reluGrad as separate cpu ops; first rows with z ≤ 0 test the shift.
for (const shape of [
  [4, 5, 5, 12],
  [3, 7, 7, 6],
]) {
  test(`wasm reluBatchNormTrain + grad match cpu: z=${shape}`, async () => {
    const c = shape.at(-1) as number;
    const d = bnInputs(shape, 0.2);
    for (let j = 0; j < c; j += 2) d.x[j] = -Math.abs(d.x[j]); // first row ≤ 0 in half the channels
    const { cpu, wasm } = await onCpuAndWasm(
      () => [tf.tensor(d.x, shape), tf.tensor(d.dy, shape), tf.tensor1d(d.gamma), tf.tensor1d(d.beta)],
      ([z, dy, gamma, beta]) => {
        const run = () => {
          const f = reluBatchNormTrain(z, gamma, beta, 1e-5);
          const b = reluBatchNormTrainGrad(dy, f.saved, f.mean, f.variance, gamma, 1e-5);
          return [f.y, f.mean, f.variance, b.dx, b.dGamma, b.dBeta];
        };
        // The stock ops (cpu) leave ReLU(z) to the caller's tidy; the fused kernels keep
        // no ReLU(z) (saved is z itself) and make nothing else.
        return tf.getBackend() === 'cpu' ? tf.tidy(run) : run();
      },
    );
    ['y', 'mean', 'variance', 'dz', 'dGamma', 'dBeta'].forEach((name, k) => {
      const err = relErr(wasm[k], cpu[k]);
      assert.ok(err < 1e-5, `${name}: rel err ${err}`);
    });
    assert.ok(
      [...d.x].every((z, i) => z > 0 || wasm[3][i] === 0),
      'dz is 0 wherever z ≤ 0',
    );
  });
}

// Far from zero the stock cpu formulas lose digits (Σdy·x − μ·Σdy in f32): compare
// with float64 sums of the same f32 data instead (backward given the f32 mean/variance).
test('wasm batchNorm statistics and parameter gradients are exact when |mean| ≫ σ', async () => {
  await useBackend('wasm');
  const shape = [16, 8, 8, 12];
  const c = 12;
  const m = size(shape) / c;
  const d = bnInputs(shape, 1000);
  const x = tf.tensor(d.x, shape);
  const dy = tf.tensor(d.dy, shape);
  const [gamma, beta] = [tf.tensor1d(d.gamma), tf.tensor1d(d.beta)];
  const fwd = batchNormTrain(x, gamma, beta, 1e-5);
  const bwd = batchNormTrainGrad(dy, x, fwd.mean, fwd.variance, gamma, 1e-5);
  const [mean, variance] = [take(fwd.mean), take(fwd.variance)];
  const [dGamma, dBeta] = [take(bwd.dGamma), take(bwd.dBeta)];
  const col = (a: Float32Array, j: number) => Array.from({ length: m }, (_, r) => a[r * c + j]);
  for (let j = 0; j < c; j++) {
    const xs = col(d.x, j);
    const gs = col(d.dy, j);
    const mu = xs.reduce((s, v) => s + v, 0) / m;
    const v = xs.reduce((s, x) => s + (x - mu) ** 2, 0) / m;
    const db = gs.reduce((s, g) => s + g, 0);
    const dg = gs.reduce((s, g, r) => s + g * (xs[r] - mean[j]), 0) / Math.sqrt(variance[j] + 1e-5);
    assert.ok(Math.abs(mean[j] / mu - 1) < 1e-7, `mean ${j}`);
    assert.ok(Math.abs(variance[j] / v - 1) < 1e-6, `variance ${j}: ${variance[j]} vs ${v}`);
    assert.ok(Math.abs(dBeta[j] - db) < 1e-5 * Math.abs(db) + 1e-6, `dBeta ${j}`);
    assert.ok(Math.abs(dGamma[j] - dg) < 1e-5 * Math.abs(dg) + 1e-6, `dGamma ${j}: ${dGamma[j]} vs ${dg}`);
  }
  tf.dispose([x, dy, gamma, beta, fwd.y, bwd.dx]);
});

test('wasm batchNorm runs our kernels (visible in tf.profile)', async () => {
  await useBackend('wasm');
  const x = tf.tensor(randomArray(2 * 3 * 3 * 8, 1), [2, 3, 3, 8]);
  const g = tf.ones([8]);
  const b = tf.zeros([8]);
  const prof = await tf.profile(() => {
    const f = batchNormTrain(x, g, b, 1e-5);
    const r = batchNormTrainGrad(x, x, f.mean, f.variance, g, 1e-5);
    tf.dispose([f.y, f.mean, f.variance, r.dx, r.dGamma, r.dBeta]);
  });
  const names = prof.kernels.map((k) => k.name);
  assert.deepEqual(names, ['WtrainBatchNormTrain', 'WtrainBatchNormTrainGrad']);
  tf.dispose([x, g, b]);
});

for (const shape of [
  [5, 3, 4, 7],
  [32, 8, 8, 16],
  [1, 6],
]) {
  test(`wasm batchMean (WM's centring) matches cpu: ${shape}`, async () => {
    const data = randomArray(
      shape.reduce((a, b) => a * b, 1),
      9,
    ).map((v) => v + 2);
    await useBackend('cpu');
    const ref = take(batchMean(tf.tensor(data, shape)));
    await useBackend('wasm');
    const x = tf.tensor(data, shape);
    const before = tf.memory().numTensors;
    const got = batchMean(x);
    assert.deepEqual(got.shape, [1, ...shape.slice(1)]);
    assert.ok(relErr(take(got), ref) < 1e-6, 'rel err');
    assert.equal(tf.memory().numTensors, before);
    x.dispose();
  });
}

const SGD_CASES: Array<[string, SgdHyper, boolean]> = [
  ['nesterov', { lr: 0.1, momentum: 0.9, weightDecay: 1e-4, nesterov: true }, true],
  ['heavy ball', { lr: 0.05, momentum: 0.9, weightDecay: 0, nesterov: false }, true],
  ['plain', { lr: 0.1, momentum: 0, weightDecay: 5e-4, nesterov: false }, false],
];
for (const [name, hyper, withVelocity] of SGD_CASES) {
  test(`wasm SGD step (${name}) matches cpu over 3 steps, sizes off the SIMD width`, async () => {
    for (const size of [1, 7, 4099]) {
      const run = async (backend: 'cpu' | 'wasm') => {
        await useBackend(backend);
        const p = tf.variable(tf.tensor(randomArray(size, 1)));
        const v = withVelocity ? tf.variable(tf.tensor(randomArray(size, 2))) : null;
        const before = tf.memory().numTensors;
        for (let step = 0; step < 3; step++) {
          const g = tf.tensor(randomArray(size, 10 + step));
          sgdUpdate(p, g, v, hyper);
          g.dispose();
        }
        assert.equal(tf.memory().numTensors, before, 'tensors leaked');
        const out = [take(p), v ? take(v) : new Float32Array()];
        return out;
      };
      const cpu = await run('cpu');
      const wasm = await run('wasm');
      assert.ok(relErr(wasm[0], cpu[0]) < 1e-6, `param, size ${size}`);
      assert.ok(relErr(wasm[1], cpu[1]) < 1e-6 || !withVelocity, `velocity, size ${size}`);
    }
  });
}

test('wasm sign(W)·M (sign-symmetry) equals cpu: scalar and per-weight magnitudes, zeros, odd sizes', async () => {
  for (const size of [3, 8, 1031]) {
    const w = randomArray(size, 5).map((v, i) => (i % 5 === 0 ? 0 : v));
    const m = randomArray(size, 6).map(Math.abs);
    const { cpu, wasm } = await onCpuAndWasm(
      () => [tf.tensor(w), tf.tensor(m)],
      ([wt, mt]) => [signTimes(wt, 0.25), signTimes(wt, mt)],
    );
    assert.deepEqual(wasm, cpu, `size ${size}`);
  }
});

test('wasm ReLU backward (dy where y > 0) equals cpu, zeros and odd sizes included', async () => {
  for (const size of [5, 16, 1027]) {
    const y = randomArray(size, 7).map((v, i) => (i % 3 === 0 ? 0 : Math.max(0, v)));
    const dy = randomArray(size, 8);
    const { cpu, wasm } = await onCpuAndWasm(
      () => [tf.tensor(dy), tf.tensor(y)],
      ([dyt, yt]) => [reluGrad(dyt, yt)],
    );
    // Exactly equal (cpu's dy·0 gives −0 where dy < 0, ours +0: the same number).
    assert.equal(maxAbsDiff(wasm[0], cpu[0]), 0, `size ${size}`);
  }
});

test('wasm max pooling backward equals cpu, ties (ReLU zeros) and odd sizes included', async () => {
  // [n, h, w, c], window, stride, padding; channels in fours and one at a time.
  const CASES: Array<[number[], number, number, number]> = [
    [[2, 8, 8, 4], 3, 2, 1],
    [[1, 7, 9, 8], 3, 2, 1],
    [[3, 6, 6, 12], 2, 2, 0],
    [[1, 5, 5, 4], 3, 1, 1],
    [[2, 5, 5, 3], 3, 2, 1],
    [[2, 6, 7, 6], 2, 2, 0],
    [[1, 4, 4, 1], 2, 2, 0],
  ];
  for (const [shape, k, s, p] of CASES) {
    // A third of the inputs are 0 (many windows tie at their maximum).
    const x = randomArray(size(shape), 11).map((v, i) => (i % 3 === 0 ? 0 : v));
    const { cpu, wasm } = await onCpuAndWasm(
      () => {
        const xt = tf.tensor4d(x, shape as [number, number, number, number]);
        const yt = tf.maxPool(xt, k, s, p);
        return [xt, yt, tf.tensor4d(randomArray(yt.size, 12), yt.shape)];
      },
      ([xt, yt, dyt]) => [
        maxPoolGrad(dyt as tf.Tensor4D, xt as tf.Tensor4D, yt as tf.Tensor4D, {
          filterSize: k,
          strides: s,
          pad: p,
        }),
      ],
    );
    const err = relErr(wasm[0], cpu[0]);
    assert.ok(err < 1e-6, `${shape} k${k} s${s} p${p}: rel. err ${err}`);
  }
  await useBackend('wasm');
  const x = tf.zeros([1, 4, 4, 4]) as tf.Tensor4D;
  const prof = await tf.profile(() => {
    const y = tf.maxPool(x, 3, 2, 1);
    return maxPoolGrad(tf.onesLike(y), x, y, { filterSize: 3, strides: 2, pad: 1 });
  });
  assert.ok(prof.kernelNames.includes('WtrainMaxPoolGrad'), `kernels: ${prof.kernelNames}`);
  x.dispose();
});

test("wasm WM mirror update (eq. 21) equals cpu's ops bit for bit, per-tap and scalar pairs", async () => {
  // [B's shape, pairs' shape or a number]: a conv (pairs per tap), odd sizes, a dense layer.
  const CASES: Array<[number[], number[] | number]> = [
    [
      [3, 3, 8, 16],
      [3, 3, 1, 1],
    ],
    [
      [3, 3, 3, 5],
      [3, 3, 1, 1],
    ],
    [
      [7, 7, 3, 4],
      [7, 7, 1, 1],
    ],
    [[10, 7], 96],
  ];
  for (const [shape, pairsShape] of CASES) {
    const [b, g] = [randomArray(size(shape), 21), randomArray(size(shape), 22)];
    const counts =
      typeof pairsShape === 'number'
        ? []
        : randomArray(size(pairsShape), 23).map((v) => 1 + Math.round(Math.abs(v) * 40));
    const { cpu, wasm } = await onCpuAndWasm(
      () => [
        tf.tensor(b, shape),
        tf.tensor(g, shape),
        ...(typeof pairsShape === 'number' ? [] : [tf.tensor(counts, pairsShape)]),
      ],
      ([bt, gt, pt]) => [mirrorUpdate(bt, gt, pt ?? (pairsShape as number), 0.5, 0.1)],
    );
    assert.equal(maxAbsDiff(wasm[0], cpu[0]), 0, `${shape}`);
  }
  await useBackend('wasm');
  const B = tf.ones([3, 3, 4, 8]);
  const prof = await tf.profile(() => mirrorUpdate(B, B, tf.ones([3, 3, 1, 1]), 0.5, 0.1));
  assert.ok(prof.kernelNames.includes('WtrainMirrorUpdate'), `kernels: ${prof.kernelNames}`);
  B.dispose();
});

test("wasm WM centred ReLU (y − ȳ over the batch) equals cpu's ops", async () => {
  // Features in fours (the kernel), odd batch sizes, and 3 features (tf ops).
  for (const shape of [
    [32, 8, 8, 16],
    [5, 12],
    [7, 3, 3, 4],
    [1, 8],
    [4, 3],
  ]) {
    const z = randomArray(size(shape), 31);
    const { cpu, wasm } = await onCpuAndWasm(
      () => [tf.tensor(z, shape)],
      ([zt]) => [centredRelu(zt)],
    );
    const err = relErr(wasm[0], cpu[0]);
    assert.ok(err < 1e-6, `${shape}: rel. err ${err}`);
  }
  await useBackend('wasm');
  const z = tf.ones([4, 8]);
  const prof = await tf.profile(() => centredRelu(z));
  assert.ok(prof.kernelNames.includes('WtrainCentredRelu'), `kernels: ${prof.kernelNames}`);
  z.dispose();
});

test('permutePlan merges axes and recognises the three supported permutes', () => {
  assert.deepEqual(permutePlan([2, 3, 4, 5], [3, 1, 2, 0]), { kind: 'transpose', a: 2, b: 12, c: 5 });
  assert.deepEqual(permutePlan([2, 3, 4, 5], [3, 0, 1, 2]), { kind: 'transpose', a: 24, b: 1, c: 5 });
  assert.deepEqual(permutePlan([2, 3, 4, 5], [1, 2, 0, 3]), { kind: 'swapRows', a: 2, b: 12, r: 5 });
  assert.deepEqual(permutePlan([1, 3, 4, 5], [3, 1, 2, 0]), { kind: 'transpose', a: 12, b: 1, c: 5 });
  assert.deepEqual(permutePlan([2, 3, 4, 1], [3, 1, 2, 0]), { kind: 'transpose', a: 2, b: 1, c: 12 });
  assert.equal(permutePlan([2, 3, 4, 5], [0, 1, 3, 2]), null); // batched transpose
  assert.equal(permutePlan([2, 3, 4, 5], [0, 1, 2, 3]), null); // identity
});

const PERMUTES: Array<{ shape: number[]; perm: number[] }> = [
  { shape: [2, 3, 3, 5], perm: [3, 1, 2, 0] },
  { shape: [5, 4, 3, 6], perm: [3, 1, 2, 0] },
  { shape: [37, 2, 3, 7], perm: [3, 1, 2, 0] },
  { shape: [1, 4, 4, 3], perm: [3, 1, 2, 0] },
  { shape: [128, 16, 16, 32], perm: [3, 1, 2, 0] },
  { shape: [2, 3, 3, 5], perm: [3, 0, 1, 2] },
  { shape: [33, 5, 5, 6], perm: [3, 0, 1, 2] },
  { shape: [128, 8, 8, 64], perm: [3, 0, 1, 2] },
  { shape: [2, 3, 3, 5], perm: [1, 2, 0, 3] },
  { shape: [37, 2, 3, 1], perm: [1, 2, 0, 3] },
  { shape: [70, 3, 2, 9], perm: [1, 2, 0, 3] },
  { shape: [128, 32, 32, 16], perm: [1, 2, 0, 3] },
  { shape: [16, 3, 3, 32], perm: [1, 2, 0, 3] },
  { shape: [6, 7, 7, 5], perm: [3, 1, 2, 0] },
  { shape: [5, 2, 3, 300], perm: [3, 1, 2, 0] },
  { shape: [9, 3, 3, 259], perm: [3, 0, 1, 2] },
  { shape: [2, 3, 3, 5], perm: [0, 1, 3, 2] }, // no plan: tf.transpose
];

for (const { shape, perm } of PERMUTES) {
  test(`wasm fastTranspose equals cpu transpose: x=${shape} perm=${perm}`, async () => {
    const data = randomArray(size(shape), 3);
    await useBackend('cpu');
    const want = take(tf.transpose(tf.tensor(data, shape), perm));
    await useBackend('wasm');
    const x = tf.tensor(data, shape);
    const before = tf.memory().numTensors;
    const out = fastTranspose(x, perm);
    assert.deepEqual(
      out.shape,
      perm.map((i) => shape[i]),
    );
    const got = take(out);
    assert.equal(tf.memory().numTensors, before);
    x.dispose();
    assert.equal(relErr(got, want), 0);
  });
}
