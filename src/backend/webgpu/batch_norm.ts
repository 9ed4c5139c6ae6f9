/**
 * Training-mode BatchNorm on WebGPU in 3 dispatches each way instead of ~14 forward
 * (+7 for the running statistics) and ~12 backward tf ops (channels last; statistics
 * over every axis but the last):
 *
 *   forward  (x, γ, β, ε) → y = γ·(x − μ)/√(σ² + ε) + β, μ, σ² (biased), and the
 *            running statistics updated in place when given
 *   backward (dy, x, μ, σ², γ, ε) → dx = k·(dy − dβ/M − x̂·dγ/M), dγ = Σ dy·x̂, dβ = Σ dy
 *            with k = γ/√(σ² + ε), x̂ = (x − μ)/√(σ² + ε), M = rows
 *
 * The same kernels with `relu` run BN(ReLU(z)) (ops reluBatchNormTrain/Grad): they
 * read ReLU(z) on the fly and mask dx with z > 0, so the after_relu unit's ReLU and
 * its backward cost no dispatch and no activation-sized tensor.
 *
 * Each way: split partial sums (a tfjs program), one raw pass that writes both
 * per-channel results (raw_dispatch.ts: tfjs programs have one output), the
 * element-wise pass.
 *
 * Ops `batchNormTrain` / `batchNormTrainGrad` for src/backend/ops/registry.ts.
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  type BatchNormTrainFn,
  type BatchNormTrainGradFn,
  batchNormRows,
  updateRunningStats,
} from '../ops/batch_norm_train.js';
import type { ReluBatchNormTrainFn, ReluBatchNormTrainGradFn } from '../ops/relu_batch_norm.js';
import {
  channelSplits,
  channelWorkgroups,
  channelwiseUniforms,
  GRAD_SUMS_SHADER,
  gradPartialsProgram,
  inputGradProgram,
  normalizeProgram,
  splitUniforms,
  statsFinalizeShader,
  statsPartialsProgram,
} from './batch_norm_programs.js';
import { rank1 as flat, type KernelArgs, registerWebgpuKernel, type WebGPUBackend } from './program.js';
import { newOutput, ownBufferForInPlace, recordRawDispatch } from './raw_dispatch.js';

export type { BatchNormTrainFn, BatchNormTrainGradFn } from '../ops/batch_norm_train.js';

export const BN_TRAIN_KERNEL = 'WtrainBatchNormTrain';
export const BN_TRAIN_GRAD_KERNEL = 'WtrainBatchNormTrainGrad';

function dims(x: tf.TensorInfo): { rows: number; channels: number; size: number } {
  return {
    rows: batchNormRows(x),
    channels: x.shape[x.shape.length - 1],
    size: tf.util.sizeFromShape(x.shape),
  };
}

interface TrainAttrs {
  epsilon: number;
  /** x is a ReLU's input: normalise ReLU(x) (the fused after_relu unit). */
  relu?: boolean;
  /** Running-statistics momentum; with it, inputs runMean and runVar are updated in place. */
  momentum?: number;
}

function batchNormTrainKernel({
  inputs,
  backend,
  attrs,
}: KernelArgs<'x' | 'gamma' | 'beta' | 'runMean' | 'runVar', TrainAttrs>): tf.TensorInfo[] {
  const { x, gamma, beta, runMean, runVar } = inputs;
  const { rows, channels, size } = dims(x);
  const split = splitUniforms(rows, channels, attrs.epsilon);
  const partials = backend.runWebGPUProgram(
    statsPartialsProgram(rows, channels, attrs.relu),
    [flat(x)],
    'float32',
    split,
  );
  const mean = newOutput(backend, [channels]);
  const variance = newOutput(backend, [channels]);
  const running = attrs.momentum !== undefined && runMean !== undefined && runVar !== undefined;
  const momentum = attrs.momentum ?? 0;
  recordRawDispatch(
    backend,
    'WtrainBnStatsFinalize',
    statsFinalizeShader(running),
    [
      { tensor: partials, write: false },
      { tensor: mean, write: true },
      { tensor: variance, write: true },
      ...(running ? [runMean, runVar].map((tensor) => ({ tensor, write: true })) : []),
    ],
    [
      ...split.slice(0, 4),
      { type: 'float32', data: [momentum] },
      { type: 'float32', data: [1 - momentum] },
      { type: 'float32', data: [rows / Math.max(1, rows - 1)] },
    ],
    channelWorkgroups(channels),
  );
  backend.disposeData(partials.dataId);
  const y = backend.runWebGPUProgram(
    normalizeProgram(size, attrs.relu),
    [flat(x), mean, variance, flat(gamma), flat(beta)],
    'float32',
    channelwiseUniforms(channels, attrs.epsilon, rows),
  );
  return [{ ...y, shape: x.shape }, mean, variance];
}

function batchNormTrainGradKernel({
  inputs,
  backend,
  attrs,
}: KernelArgs<
  'dy' | 'x' | 'mean' | 'variance' | 'gamma',
  { epsilon: number; relu?: boolean }
>): tf.TensorInfo[] {
  const { dy, x, mean, variance, gamma } = inputs;
  const { rows, channels, size } = dims(x);
  const { splits } = channelSplits(rows, channels);
  const partials = backend.runWebGPUProgram(
    gradPartialsProgram(rows, channels, attrs.relu),
    [flat(dy), flat(x), flat(mean), flat(variance)],
    'float32',
    splitUniforms(rows, channels, attrs.epsilon),
  );
  const dBeta = newOutput(backend, [channels]);
  const dGamma = newOutput(backend, [channels]);
  recordRawDispatch(
    backend,
    'WtrainBnGradSums',
    GRAD_SUMS_SHADER,
    [
      { tensor: partials, write: false },
      { tensor: dBeta, write: true },
      { tensor: dGamma, write: true },
    ],
    [
      { type: 'int32', data: [channels] },
      { type: 'int32', data: [splits] },
    ],
    channelWorkgroups(channels),
  );
  backend.disposeData(partials.dataId);
  const dx = backend.runWebGPUProgram(
    inputGradProgram(size, attrs.relu),
    [flat(dy), flat(x), flat(mean), flat(variance), flat(gamma), dBeta, dGamma],
    'float32',
    channelwiseUniforms(channels, attrs.epsilon, rows),
  );
  return [{ ...dx, shape: x.shape }, dGamma, dBeta];
}

export function registerBatchNormKernels(): void {
  registerWebgpuKernel(BN_TRAIN_KERNEL, batchNormTrainKernel);
  registerWebgpuKernel(BN_TRAIN_GRAD_KERNEL, batchNormTrainGradKernel);
}

/** The forward op on our kernel; `relu` reads x as ReLU(x) (then `saved` is x itself). */
const trainForward =
  (relu: boolean): ReluBatchNormTrainFn =>
  (x, gamma, beta, epsilon, running) => {
    const backend = tf.backend() as unknown as WebGPUBackend;
    const inPlace =
      running !== undefined &&
      ownBufferForInPlace(backend, running.mean, [running.variance, x, gamma, beta]) &&
      ownBufferForInPlace(backend, running.variance, [running.mean, x, gamma, beta]);
    const inputs: tf.NamedTensorMap = { x, gamma, beta };
    const attrs: TrainAttrs = { epsilon, relu };
    if (inPlace) {
      Object.assign(inputs, { runMean: running.mean, runVar: running.variance });
      attrs.momentum = running.momentum;
    }
    const [y, mean, variance] = tf
      .engine()
      .runKernel(BN_TRAIN_KERNEL, inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
    if (!inPlace) updateRunningStats(x, mean, variance, running);
    return { y, mean: mean as tf.Tensor1D, variance: variance as tf.Tensor1D, saved: x };
  };

/** The backward op on our kernel; with `relu`, x is the ReLU's input and dx is dL/dx through it. */
const trainBackward =
  (relu: boolean): BatchNormTrainGradFn =>
  (dy, x, mean, variance, gamma, epsilon) => {
    const [dx, dGamma, dBeta] = tf
      .engine()
      .runKernel(BN_TRAIN_GRAD_KERNEL, { dy, x, mean, variance, gamma }, { epsilon, relu }) as tf.Tensor[];
    return { dx, dGamma: dGamma as tf.Tensor1D, dBeta: dBeta as tf.Tensor1D };
  };

export const webgpuBatchNormTrain: BatchNormTrainFn = trainForward(false);
export const webgpuBatchNormTrainGrad: BatchNormTrainGradFn = trainBackward(false);
/** BN(ReLU(z)): `saved` is z itself; the backward returns dL/dz. */
export const webgpuReluBatchNormTrain: ReluBatchNormTrainFn = trainForward(true);
export const webgpuReluBatchNormTrainGrad: ReluBatchNormTrainGradFn = trainBackward(true);
