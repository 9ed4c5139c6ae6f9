/**
 * The fused training-mode BatchNorm kernels equal the same formulas in tf ops
 * (src/backend/ops/batch_norm_train.ts) on the cpu backend (max |a−b| ≤ 1e-5 · max |ref| for y, μ, σ², dx, dγ, dβ),
 * also with the after_relu unit's ReLU fused in (src/backend/ops/relu_batch_norm.ts).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import {
  stockBatchNormTrain as referenceBatchNormTrain,
  stockBatchNormTrainGrad as referenceBatchNormTrainGrad,
} from '../../src/backend/ops/batch_norm_train.js';
import { reluBatchNormTrain, reluBatchNormTrainGrad } from '../../src/backend/ops/relu_batch_norm.js';
import {
  type BatchNormTrainFn,
  type BatchNormTrainGradFn,
  BN_TRAIN_KERNEL,
  webgpuBatchNormTrain,
  webgpuBatchNormTrainGrad,
} from '../../src/backend/webgpu/batch_norm.js';
import { randomArray, relErr } from '../helpers.js';
import { onCpuThenGpu, TOLERANCE, useWebgpu } from './gpu.js';

const EPS = 1e-5;

/** Forward then backward: [y, μ, σ², dx, dγ, dβ]. */
function both(fwd: BatchNormTrainFn, bwd: BatchNormTrainGradFn, [x, g, b, dy]: tf.Tensor[]): tf.Tensor[] {
  const f = fwd(x, g, b, EPS);
  const d = bwd(dy, x, f.mean, f.variance, g, EPS);
  return [f.y, f.mean, f.variance, d.dx, d.dGamma, d.dBeta];
}

const SHAPES: Array<{ shape: number[]; why: string }> = [
  { shape: [2, 8, 8, 3], why: 'RGB-like, one split' },
  { shape: [3, 13, 13, 16], why: 'many splits, ragged last one' },
  { shape: [2, 4, 4, 160], why: 'wide' },
  { shape: [6, 10], why: 'rank 2' },
];

for (const [i, { shape, why }] of SHAPES.entries()) {
  test(`batchNormTrain / batchNormTrainGrad webgpu = cpu: [${shape}] (${why})`, async (t) => {
    if (!(await useWebgpu(t))) return;
    const c = shape.at(-1) as number;
    const size = shape.reduce((a, b) => a * b);
    // Offset data (mean 3, like post-ReLU activations) tests the variance's robustness.
    const xv = randomArray(size, 10 + i).map((v) => 3 + 2 * v);
    const dyv = randomArray(size, 20 + i);
    const gv = randomArray(c, 30 + i).map((v) => 1 + 0.5 * v);
    const bv = randomArray(c, 40 + i);
    const make = () => [tf.tensor(xv, shape), tf.tensor1d(gv), tf.tensor1d(bv), tf.tensor(dyv, shape)];

    await tf.setBackend('cpu');
    const refT = tf.tidy(() => both(referenceBatchNormTrain, referenceBatchNormTrainGrad, make()));
    const ref = await Promise.all(refT.map((r) => r.data()));
    tf.dispose(refT);

    await tf.setBackend('webgpu');
    // No tidy: the fused kernels must leave nothing behind but their outputs.
    const inputs = make();
    const before = tf.memory().numTensors;
    const gotT = both(webgpuBatchNormTrain, webgpuBatchNormTrainGrad, inputs);
    assert.deepEqual(gotT[0].shape, shape);
    assert.deepEqual(gotT[3].shape, shape);
    const got = await Promise.all(gotT.map((g) => g.data()));
    tf.dispose(gotT);
    assert.equal(tf.memory().numTensors, before, 'tensors leaked');
    tf.dispose(inputs);
    const names = ['y', 'mean', 'variance', 'dx', 'dGamma', 'dBeta'];
    names.forEach((name, k) => {
      const err = relErr(got[k] as Float32Array, ref[k] as Float32Array);
      assert.ok(err <= TOLERANCE, `${name}: rel. error ${err.toExponential(2)} > ${TOLERANCE}`);
    });
  });
}

test('reluBatchNormTrain / Grad webgpu (ReLU fused into the passes) = ReLU, BN, BN grad, reluGrad on cpu', async (t) => {
  if (!(await useWebgpu(t))) return;
  const shape = [3, 7, 7, 24];
  const c = 24;
  const size = shape.reduce((a, b) => a * b);
  const zv = randomArray(size, 50).map((v, k) => (k % 11 === 0 ? 0 : 2 * v + 0.3)); // ~40 % ≤ 0, exact zeros
  const dyv = randomArray(size, 51);
  const gv = randomArray(c, 52).map((v) => 1 + 0.5 * v);
  const bv = randomArray(c, 53);
  let gpuKernels: string[] = [];
  // No tidy: on webgpu (onCpuThenGpu counts tensors) nothing may be left but the outputs.
  const run = async () => {
    const [z, dy, g, b] = [tf.tensor(zv, shape), tf.tensor(dyv, shape), tf.tensor1d(gv), tf.tensor1d(bv)];
    let outs: tf.Tensor[] = [];
    let saved: tf.Tensor | null = null;
    const { kernelNames } = await tf.profile(() => {
      const f = reluBatchNormTrain(z, g, b, EPS);
      const d = reluBatchNormTrainGrad(dy, f.saved, f.mean, f.variance, g, EPS);
      saved = f.saved;
      outs = [f.y, f.mean, f.variance, d.dx, d.dGamma, d.dBeta];
      return outs;
    });
    gpuKernels = kernelNames;
    const values = await Promise.all(outs.map(async (o) => (await o.data()) as Float32Array));
    tf.dispose([...outs, z, dy, g, b]);
    if (saved !== z) tf.dispose(saved ?? []); // ReLU(z) on cpu, z itself where fused
    return values;
  };
  const { want: ref, got } = await onCpuThenGpu(run);
  assert.ok(!gpuKernels.includes('Relu'), `the ReLU ran as its own kernel: ${gpuKernels.join(', ')}`);
  assert.ok(gpuKernels.includes(BN_TRAIN_KERNEL), `${BN_TRAIN_KERNEL} did not run`);
  ['y', 'mean', 'variance', 'dz', 'dGamma', 'dBeta'].forEach((name, k) => {
    const err = relErr(got[k], ref[k]);
    assert.ok(err <= TOLERANCE, `${name}: rel. error ${err.toExponential(2)} > ${TOLERANCE}`);
  });
  const dz = got[3];
  assert.ok(
    zv.every((z, k) => z > 0 || dz[k] === 0),
    'dz is 0 wherever z ≤ 0',
  );
});
