/**
 * The fused BatchNorm and SGD kernels against the generic tf-op code other backends
 * run, at a net's real shapes: ms per training step summed over all layers (one BN per
 * conv, forward + backward; one SGD step per conv weight and BN γ/β, Nesterov, decay:
 * tf ops, 2 dispatches per parameter, and the grouped in-place kernel the engine uses).
 * Also WM's mirror noise for one mirror step (one draw per distinct feedback-layer input
 * shape at the default mirror batch): drawn on the host and uploaded, or on the device.
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  stockBatchNormTrain as referenceBatchNormTrain,
  stockBatchNormTrainGrad as referenceBatchNormTrainGrad,
} from '../../src/backend/ops/batch_norm_train.js';
import { convOutSize } from '../../src/backend/ops/conv2d.js';
import { hostNormalNoise, type NormalNoiseFn } from '../../src/backend/ops/normal_noise.js';
import { stockSgdUpdate } from '../../src/backend/ops/sgd_update.js';
import {
  type BatchNormTrainFn,
  type BatchNormTrainGradFn,
  webgpuBatchNormTrain,
  webgpuBatchNormTrainGrad,
} from '../../src/backend/webgpu/batch_norm.js';
import { webgpuFinish } from '../../src/backend/webgpu/index.js';
import { webgpuNormalNoise } from '../../src/backend/webgpu/normal_noise.js';
import type { WebGPUBackend } from '../../src/backend/webgpu/program.js';
import { webgpuSgdUpdate } from '../../src/backend/webgpu/sgd.js';
import { makeWebgpuSgdUpdateMany } from '../../src/backend/webgpu/sgd_many.js';
import { ownedVariable } from '../../src/models/layers/types.js';
import { uploadNow } from './dispatches.js';
import type { ConvLayerShape } from './trainer.js';

export interface FusedRow {
  net: string;
  bnLayers: number;
  bnStockMs: number;
  bnFusedMs: number;
  sgdParams: number;
  sgdStockMs: number;
  sgdFusedMs: number;
  sgdGroupedMs: number;
  noiseSamples: number;
  noiseHostMs: number;
  noiseDeviceMs: number;
}

const EPS = 1e-5;

type Pair = [BatchNormTrainFn, BatchNormTrainGradFn];

/** Forward + backward of one BatchNorm; every output is returned for disposal. */
function batchNorm(
  [fwd, bwd]: Pair,
  x: tf.Tensor,
  gamma: tf.Tensor,
  beta: tf.Tensor,
  dy: tf.Tensor,
): tf.Tensor[] {
  const f = fwd(x, gamma, beta, EPS);
  const b = bwd(dy, x, f.mean, f.variance, gamma, EPS);
  return [f.y, f.mean, f.variance, b.dx, b.dGamma, b.dBeta];
}

async function timeRepeated(fn: () => void, reps: number): Promise<number> {
  fn();
  await webgpuFinish();
  const t = performance.now();
  for (let i = 0; i < reps; i++) fn();
  await webgpuFinish();
  return (performance.now() - t) / reps;
}

/** `noiseShapes`: one WM mirror step's draws (trainer.ts mirrorNoiseShapes). */
export async function benchFused(
  net: string,
  layers: ConvLayerShape[],
  noiseShapes: number[][],
  n: number,
  reps: number,
): Promise<FusedRow> {
  const bnShapes = layers.map((l) => {
    const o = (s: number) => convOutSize(s, l.filterShape[0], l.stride, l.pad);
    return [n, o(l.inputShape[0]), o(l.inputShape[1]), l.filterShape[3]];
  });
  const bnData = bnShapes.map((s) => ({
    x: tf.randomNormal(s, 1, 1),
    dy: tf.randomNormal(s),
    gamma: tf.ones([s[3]]),
    beta: tf.zeros([s[3]]),
  }));
  const runBn = (pair: Pair) => () => {
    for (const d of bnData) tf.dispose(batchNorm(pair, d.x, d.gamma, d.beta, d.dy));
  };
  const bnStockMs = await timeRepeated(runBn([referenceBatchNormTrain, referenceBatchNormTrainGrad]), reps);
  const bnFusedMs = await timeRepeated(runBn([webgpuBatchNormTrain, webgpuBatchNormTrainGrad]), reps);
  tf.dispose(bnData.flatMap((d) => [d.x, d.dy, d.gamma, d.beta]));

  const shapes = layers.flatMap((l) => [l.filterShape as number[], [l.filterShape[3]], [l.filterShape[3]]]);
  // Variables that alone own their buffers (the grouped kernel's in-place condition).
  const params = shapes.map((s) => ownedVariable(tf.randomNormal(s)));
  const velocities = shapes.map((s) => ownedVariable(tf.zeros(s)));
  const grads = shapes.map((s) => tf.randomNormal(s));
  const o = { lr: 0.1, momentum: 0.9, weightDecay: 1e-4, nesterov: true };
  const each = (update: typeof stockSgdUpdate) => () => {
    params.forEach((p, i) => {
      update(p, grads[i], velocities[i], o);
    });
  };
  const sgdStockMs = await timeRepeated(each(stockSgdUpdate), reps);
  const sgdFusedMs = await timeRepeated(each(webgpuSgdUpdate), reps);
  const grouped = makeWebgpuSgdUpdateMany(() => tf.backend() as unknown as WebGPUBackend);
  const entries = params.map((param, i) => ({
    param,
    grad: grads[i],
    velocity: velocities[i],
    weightDecay: 1e-4,
  }));
  const sgdGroupedMs = await timeRepeated(() => grouped(entries, o), reps);
  tf.dispose([...params, ...grads, ...velocities]);

  let seed = 0;
  const draw = (noise: NormalNoiseFn) => () => {
    // uploadNow: a host-made tensor is otherwise uploaded only when a kernel first reads it
    for (const shape of noiseShapes) uploadNow(noise(shape, seed++, 1)).dispose();
  };
  const noiseHostMs = await timeRepeated(draw(hostNormalNoise), reps);
  const noiseDeviceMs = await timeRepeated(draw(webgpuNormalNoise), reps);
  return {
    net,
    bnLayers: bnShapes.length,
    bnStockMs,
    bnFusedMs,
    sgdParams: params.length,
    sgdStockMs,
    sgdFusedMs,
    sgdGroupedMs,
    noiseSamples: noiseShapes.reduce((a, s) => a + tf.util.sizeFromShape(s), 0),
    noiseHostMs,
    noiseDeviceMs,
  };
}
