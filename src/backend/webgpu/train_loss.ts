/**
 * Op `trainLoss` (src/backend/ops/train_loss.ts) in one dispatch: one workgroup walks
 * the rows (max, log-sum-exp, δ_L row, the label's rank for top-1/top-5), reduces the
 * loss and hit counts in workgroup memory, and its first thread updates the metric sums
 * and the first-bad-step marker in place. Rows × classes is small (512 × 1000 at
 * most in practice), so one workgroup is enough; ~40 dispatches and 4 scalar uploads
 * become 1. Rounding follows tfjs's logSoftmax: logp = (l − max) − log Σ exp(l − max).
 */
import * as tf from '@tensorflow/tfjs-core';
import { stockTrainLoss, type TrainLossFn } from '../ops/train_loss.js';
import { type KernelArgs, registerWebgpuKernel, type WebGPUBackend } from './program.js';
import { newOutput, ownBufferForInPlace, rawShaderHeader, recordRawDispatch } from './raw_dispatch.js';

const THREADS = 256;

const HEADER = rawShaderHeader(
  [
    { name: 'logits' },
    { name: 'labels', type: 'i32' },
    { name: 'dLogits', write: true },
    { name: 'sums', write: true },
    { name: 'badStep', write: true },
  ],
  'n : i32, c : i32, k : i32, step : f32,',
);

export const TRAIN_LOSS_SHADER = `${HEADER}
var<workgroup> partLoss : array<f32, ${THREADS}>;
var<workgroup> partTop1 : array<f32, ${THREADS}>;
var<workgroup> partTopK : array<f32, ${THREADS}>;

@compute @workgroup_size(${THREADS})
fn main(@builtin(local_invocation_index) t : u32) {
  let n = f32(u.n);
  var loss = 0.0;
  var top1 = 0.0;
  var topK = 0.0;
  for (var r = i32(t); r < u.n; r = r + ${THREADS}) {
    let row = r * u.c;
    var m = logits[row];
    for (var j = 1; j < u.c; j = j + 1) {
      m = max(m, logits[row + j]);
    }
    var s = 0.0;
    for (var j = 0; j < u.c; j = j + 1) {
      s = s + exp(logits[row + j] - m);
    }
    let logS = log(s);
    let y = clamp(labels[r], 0, u.c - 1);
    let ly = logits[row + y];
    var rank = 0;
    for (var j = 0; j < u.c; j = j + 1) {
      let l = logits[row + j];
      dLogits[row + j] = (exp((l - m) - logS) - select(0.0, 1.0, j == y)) / n;
      if (l > ly || (l == ly && j < y)) {
        rank = rank + 1;
      }
    }
    loss = loss - ((ly - m) - logS);
    top1 = top1 + select(0.0, 1.0, rank < 1);
    topK = topK + select(0.0, 1.0, rank < u.k);
  }
  partLoss[t] = loss;
  partTop1[t] = top1;
  partTopK[t] = topK;
  workgroupBarrier();
  for (var w = ${THREADS / 2}u; w > 0u; w = w / 2u) {
    if (t < w) {
      partLoss[t] = partLoss[t] + partLoss[t + w];
      partTop1[t] = partTop1[t] + partTop1[t + w];
      partTopK[t] = partTopK[t] + partTopK[t + w];
    }
    workgroupBarrier();
  }
  if (t == 0u) {
    let mean = partLoss[0] / n;
    sums[0] = sums[0] + mean * n;
    sums[1] = sums[1] + partTop1[0];
    sums[2] = sums[2] + partTopK[0];
    sums[3] = sums[3] + n;
    // Not finite: all exponent bits set (WGSL may assume no NaN/Inf in float compares).
    let notFinite = (bitcast<u32>(mean) & 0x7f800000u) == 0x7f800000u;
    if (badStep[0] < 0.0 && notFinite) {
      badStep[0] = u.step;
    }
  }
}`;

export const TRAIN_LOSS_KERNEL = 'WtrainTrainLoss';

/** A kernel (so tf.profile times it) that also writes its inputs `sums` and `badStep` in place. */
function trainLossKernel({
  inputs,
  backend,
  attrs,
}: KernelArgs<'logits' | 'labels' | 'sums' | 'badStep', { step: number }>): tf.TensorInfo {
  const { logits, labels, sums, badStep } = inputs;
  const [n, c] = logits.shape;
  const dLogits = newOutput(backend, [n, c]);
  recordRawDispatch(
    backend,
    TRAIN_LOSS_KERNEL,
    TRAIN_LOSS_SHADER,
    [
      { tensor: logits, write: false },
      { tensor: labels, write: false },
      { tensor: dLogits, write: true },
      { tensor: sums, write: true },
      { tensor: badStep, write: true },
    ],
    [
      { type: 'int32', data: [n] },
      { type: 'int32', data: [c] },
      { type: 'int32', data: [Math.min(5, c)] },
      { type: 'float32', data: [attrs.step] },
    ],
    1,
  );
  return dLogits;
}

export function registerTrainLossKernel(): void {
  registerWebgpuKernel(TRAIN_LOSS_KERNEL, trainLossKernel);
}

export const webgpuTrainLoss: TrainLossFn = (logits, labels, acc) => {
  const backend = tf.backend() as unknown as WebGPUBackend;
  const inPlace =
    labels.dtype === 'int32' &&
    logits.dtype === 'float32' &&
    logits.shape[0] > 0 &&
    ownBufferForInPlace(backend, acc.sums, [acc.badStep, logits, labels]) &&
    ownBufferForInPlace(backend, acc.badStep, [acc.sums, logits, labels]);
  if (!inPlace) return stockTrainLoss(logits, labels, acc);
  const inputs = { logits, labels, sums: acc.sums, badStep: acc.badStep };
  return tf.engine().runKernel(TRAIN_LOSS_KERNEL, inputs, { step: acc.step }) as tf.Tensor2D;
};
