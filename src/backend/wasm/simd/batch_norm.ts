/**
 * Training-mode BatchNorm on the wasm backend, two passes over the data each way
 * with batch_norm.wat instead of tfjs's ~10 stock ops (whose Sum/Mean over N·H·W
 * transpose the whole tensor first). Channels last; x read as [M, C], M = N·H·W:
 *
 *   forward  one pass: Σd, Σd² per channel in f64, d = x − x₀ (x₀: the first row)
 *                      →  μ = x₀ + Σd/M,  σ² = Σd²/M − (Σd/M)²  (biased)
 *            one pass: y = (x − μ)·s + β,  s = γ/√(σ² + ε)
 *   backward one pass: dβ = Σ dy, Σ dy·(x − μ) per channel in f64  →  dγ = Σ dy·(x − μ)/√(σ² + ε)
 *            one pass: dx = k·dy − (x − μ)·c − a,
 *                      k = γ/√(σ² + ε), a = k·dβ/M, c = k·dγ/(M·√(σ² + ε))
 * (the same formulas as stockBatchNormTrain/-Grad in src/backend/ops/batch_norm_train.ts).
 * The per-channel finishing steps (C values) run in JS, in f64.
 *
 * The shift x₀ keeps the one-pass variance sound: it lies within a few σ of μ, so
 * Σd²/M − (Σd/M)² does not cancel (d itself is exact in f64; the sums' relative error
 * is at most about M·2⁻⁵³). The backward forms x − μ before multiplying, so dγ does
 * not cancel either (the stock formula Σdy·x − μ·Σdy does, in f32, when |μ| ≫ σ).
 */
import * as tf from '@tensorflow/tfjs-core';
import { type BatchMeanFn, stockBatchMean } from '../../ops/batch_mean.js';
import {
  type BatchNormTrainFn,
  type BatchNormTrainGradFn,
  stockBatchNormTrain,
  stockBatchNormTrainGrad,
  updateRunningStats,
} from '../../ops/batch_norm_train.js';
import {
  type ReluBatchNormTrainFn,
  type ReluBatchNormTrainGradFn,
  stockReluBatchNormTrain,
  stockReluBatchNormTrainGrad,
} from '../../ops/relu_batch_norm.js';
import { heapF32, heapF64 } from './index.js';
import { type SimdCall, simdKernel } from './kernel.js';

/** x read as [M, C], channels last. */
const rowsOf = (x: tf.TensorInfo) => {
  const c = x.shape[x.shape.length - 1];
  return { m: tf.util.sizeFromShape(x.shape) / c, c };
};

/** Run bn_stats over x (ReLU(x) with `relu`) as [m, c] into f64 scratch, then `finish` with the sums; frees the scratch. */
function withStats<T>(
  k: SimdCall,
  x: tf.TensorInfo,
  m: number,
  c: number,
  finish: (sums: Float64Array) => T,
  relu = false,
): T {
  const scratch = k.backend.wasm._malloc(16 * c); // f64 sums [2C]
  try {
    k.mods.batchNorm.bn_stats(k.at(x), m, c, scratch, relu ? 1 : 0);
    return finish(heapF64(k.mods, scratch, 2 * c));
  } finally {
    k.backend.wasm._free(scratch);
  }
}

// The same kernel names as the webgpu backend's (kernels are registered per backend).
/** inputs x, gamma, beta; attrs epsilon, relu (normalise ReLU(x)) → [y, mean, variance]. */
const batchNormTrainKernel = simdKernel<'x' | 'gamma' | 'beta', { epsilon: number; relu: boolean }>(
  'WtrainBatchNormTrain',
  (k, { x, gamma, beta }, { epsilon, relu }) => {
    const { mods, at } = k;
    const { m, c } = rowsOf(x);
    const y = k.output(x.shape);
    const mean = k.output([c]);
    const variance = k.output([c]);
    const scale = k.backend.wasm._malloc(4 * c);
    try {
      withStats(
        k,
        x,
        m,
        c,
        (sums) => {
          // Views only now: every allocation is done (growing the heap detaches views).
          const shift = heapF32(mods, at(x), c); // the first row (through the ReLU with relu)
          const meanV = heapF32(mods, at(mean), c);
          const varV = heapF32(mods, at(variance), c);
          const gammaV = heapF32(mods, at(gamma), c);
          const scaleV = heapF32(mods, scale, c);
          for (let j = 0; j < c; j++) {
            const d = sums[j] / m;
            meanV[j] = (relu ? Math.max(shift[j], 0) : shift[j]) + d;
            varV[j] = Math.max(0, sums[c + j] / m - d * d);
            scaleV[j] = gammaV[j] / Math.sqrt(varV[j] + epsilon);
          }
        },
        relu,
      );
      mods.batchNorm.bn_apply(at(x), at(y), m, c, at(mean), scale, at(beta), relu ? 1 : 0);
    } finally {
      k.backend.wasm._free(scale);
    }
    return [y, mean, variance];
  },
);

/** inputs dy, x, mean, variance, gamma; attrs epsilon, relu (x is a ReLU's input) → [dx, dGamma, dBeta]. */
const batchNormTrainGradKernel = simdKernel<
  'dy' | 'x' | 'mean' | 'variance' | 'gamma',
  { epsilon: number; relu: boolean }
>('WtrainBatchNormTrainGrad', (k, { dy, x, mean, variance, gamma }, { epsilon, relu }) => {
  const { mods, at } = k;
  const { m, c } = rowsOf(x);
  const dx = k.output(x.shape);
  const dGamma = k.output([c]);
  const dBeta = k.output([c]);
  const scratch = k.backend.wasm._malloc(28 * c); // f64 sums [2C], then f32 k, cc, a [C each]
  try {
    const [kk, cc, a] = [16 * c, 20 * c, 24 * c].map((o) => scratch + o);
    mods.batchNorm.bn_grad_sums(at(dy), at(x), m, c, at(mean), scratch, relu ? 1 : 0);
    const sums = heapF64(mods, scratch, 2 * c);
    const varV = heapF32(mods, at(variance), c);
    const gammaV = heapF32(mods, at(gamma), c);
    const dGammaV = heapF32(mods, at(dGamma), c);
    const dBetaV = heapF32(mods, at(dBeta), c);
    const [kV, ccV, aV] = [kk, cc, a].map((o) => heapF32(mods, o, c));
    for (let j = 0; j < c; j++) {
      const invStd = 1 / Math.sqrt(varV[j] + epsilon);
      const db = sums[j];
      const dg = sums[c + j] * invStd;
      dBetaV[j] = db;
      dGammaV[j] = dg;
      const kj = gammaV[j] * invStd;
      kV[j] = kj;
      aV[j] = (kj * db) / m;
      ccV[j] = (invStd * kj * dg) / m;
    }
    mods.batchNorm.bn_grad_apply(at(dy), at(x), at(dx), m, c, kk, at(mean), cc, a, relu ? 1 : 0);
  } finally {
    k.backend.wasm._free(scratch);
  }
  return [dx, dGamma, dBeta];
});

/** inputs x [m, c] → mean over the m rows, [c] (bn_stats' sums, without the normalising pass). */
const batchMeanKernel = simdKernel<'x'>('WtrainBatchMean', (k, { x }) => {
  const { m, c } = rowsOf(x);
  const mean = k.output([c]);
  withStats(k, x, m, c, (sums) => {
    const shift = heapF32(k.mods, k.at(x), c);
    const meanV = heapF32(k.mods, k.at(mean), c);
    for (let j = 0; j < c; j++) meanV[j] = shift[j] + sums[j] / m;
  });
  return mean;
});

/**
 * The forward op on our kernel; `relu` normalises ReLU(x) read on the fly (no ReLU pass,
 * no ReLU(x) tensor), and `saved` is x itself either way.
 */
const trainForward =
  (relu: boolean): ReluBatchNormTrainFn =>
  (x, gamma, beta, epsilon, running) => {
    const out = batchNormTrainKernel.run({ x, gamma, beta }, { epsilon, relu });
    if (!out) {
      return relu
        ? stockReluBatchNormTrain(x, gamma, beta, epsilon, running)
        : { ...stockBatchNormTrain(x, gamma, beta, epsilon, running), saved: x };
    }
    const [y, mean, variance] = out;
    updateRunningStats(x, mean, variance, running);
    return { y, mean: mean as tf.Tensor1D, variance: variance as tf.Tensor1D, saved: x };
  };

/**
 * The backward op on our kernel; with `relu`, dx is dL/dx through the ReLU, and `saved`
 * may be x or ReLU(x) (the kernel applies the ReLU again: it is idempotent).
 */
const trainBackward =
  (relu: boolean): BatchNormTrainGradFn =>
  (dy, saved, mean, variance, gamma, epsilon) => {
    const out = batchNormTrainGradKernel.run({ dy, x: saved, mean, variance, gamma }, { epsilon, relu });
    if (!out) {
      if (!relu) return stockBatchNormTrainGrad(dy, saved, mean, variance, gamma, epsilon);
      return tf.tidy(() => stockReluBatchNormTrainGrad(dy, tf.relu(saved), mean, variance, gamma, epsilon));
    }
    const [dx, dGamma, dBeta] = out;
    return { dx, dGamma: dGamma as tf.Tensor1D, dBeta: dBeta as tf.Tensor1D };
  };

export const wasmBatchNormTrain: BatchNormTrainFn = trainForward(false);
export const wasmBatchNormTrainGrad: BatchNormTrainGradFn = trainBackward(false);
export const wasmReluBatchNormTrain: ReluBatchNormTrainFn = trainForward(true);
export const wasmReluBatchNormTrainGrad: ReluBatchNormTrainGradFn = trainBackward(true);

/** Mean over the leading (batch) axis, as a [1, …] tensor. */
export const wasmBatchMean: BatchMeanFn = (t) =>
  tf.tidy(() => {
    const rows = tf.reshape(t, [t.shape[0], t.size / t.shape[0]]);
    const mean = batchMeanKernel.run({ x: rows }, {})?.[0];
    return mean ? tf.reshape(mean, [1, ...t.shape.slice(1)]) : stockBatchMean(t);
  });
