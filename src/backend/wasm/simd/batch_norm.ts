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
} from '../../ops/batch_norm_train.js';
import {
  heapF32,
  heapF64,
  heapOffset,
  registerWasmKernelOnce,
  type SimdModules,
  simdModules,
  type WasmBackend,
} from './index.js';

// The same kernel names as the webgpu backend's (kernels are registered per backend).
export const BN_TRAIN_KERNEL = 'WtrainBatchNormTrain';
export const BN_TRAIN_GRAD_KERNEL = 'WtrainBatchNormTrainGrad';

interface KernelArgs<I extends string> {
  inputs: Record<I, tf.TensorInfo>;
  backend: tf.KernelBackend;
  attrs: { epsilon: number };
}

function setup(args: KernelArgs<'x'>) {
  const backend = args.backend as unknown as WasmBackend;
  const mods = simdModules(backend) as SimdModules;
  const x = args.inputs.x;
  const c = x.shape[x.shape.length - 1];
  const m = tf.util.sizeFromShape(x.shape) / c;
  const at = (t: tf.TensorInfo) => heapOffset(backend, t);
  return { backend, mods, x, m, c, at, epsilon: args.attrs.epsilon };
}

/** inputs x, gamma, beta; attrs epsilon → [y, mean, variance]. */
function batchNormTrainKernel(args: KernelArgs<'x' | 'gamma' | 'beta'>): tf.TensorInfo[] {
  const { backend, mods, x, m, c, at, epsilon } = setup(args);
  const { gamma, beta } = args.inputs;
  const y = backend.makeOutput(x.shape, 'float32');
  const mean = backend.makeOutput([c], 'float32');
  const variance = backend.makeOutput([c], 'float32');
  const scratch = backend.wasm._malloc(24 * c); // f64 sums [2C], then f32 scale [C]
  try {
    const scale = scratch + 16 * c;
    mods.batchNorm.bn_stats(at(x), m, c, scratch);
    // Views only now: every allocation is done (growing the heap detaches views).
    const sums = heapF64(mods, scratch, 2 * c);
    const shift = heapF32(mods, at(x), c); // the first row
    const meanV = heapF32(mods, at(mean), c);
    const varV = heapF32(mods, at(variance), c);
    const gammaV = heapF32(mods, at(gamma), c);
    const scaleV = heapF32(mods, scale, c);
    for (let j = 0; j < c; j++) {
      const d = sums[j] / m;
      meanV[j] = shift[j] + d;
      varV[j] = Math.max(0, sums[c + j] / m - d * d);
      scaleV[j] = gammaV[j] / Math.sqrt(varV[j] + epsilon);
    }
    mods.batchNorm.bn_apply(at(x), at(y), m, c, at(mean), scale, at(beta));
  } finally {
    backend.wasm._free(scratch);
  }
  return [y, mean, variance];
}

/** inputs dy, x, mean, variance, gamma; attrs epsilon → [dx, dGamma, dBeta]. */
function batchNormTrainGradKernel(
  args: KernelArgs<'dy' | 'x' | 'mean' | 'variance' | 'gamma'>,
): tf.TensorInfo[] {
  const { backend, mods, x, m, c, at, epsilon } = setup(args);
  const { dy, mean, variance, gamma } = args.inputs;
  const dx = backend.makeOutput(x.shape, 'float32');
  const dGamma = backend.makeOutput([c], 'float32');
  const dBeta = backend.makeOutput([c], 'float32');
  const scratch = backend.wasm._malloc(28 * c); // f64 sums [2C], then f32 k, cc, a [C each]
  try {
    const [k, cc, a] = [16 * c, 20 * c, 24 * c].map((o) => scratch + o);
    mods.batchNorm.bn_grad_sums(at(dy), at(x), m, c, at(mean), scratch);
    const sums = heapF64(mods, scratch, 2 * c);
    const varV = heapF32(mods, at(variance), c);
    const gammaV = heapF32(mods, at(gamma), c);
    const dGammaV = heapF32(mods, at(dGamma), c);
    const dBetaV = heapF32(mods, at(dBeta), c);
    const [kV, ccV, aV] = [k, cc, a].map((o) => heapF32(mods, o, c));
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
    mods.batchNorm.bn_grad_apply(at(dy), at(x), at(dx), m, c, k, at(mean), cc, a);
  } finally {
    backend.wasm._free(scratch);
  }
  return [dx, dGamma, dBeta];
}

export const BATCH_MEAN_KERNEL = 'WtrainBatchMean';

/** inputs x [m, c] → mean over the m rows, [c] (bn_stats' sums, without the normalising pass). */
function batchMeanKernel(args: KernelArgs<'x'>): tf.TensorInfo {
  const { backend, mods, x, m, c, at } = setup(args);
  const mean = backend.makeOutput([c], 'float32');
  const scratch = backend.wasm._malloc(16 * c); // f64 sums [2C]
  try {
    mods.batchNorm.bn_stats(at(x), m, c, scratch);
    const sums = heapF64(mods, scratch, c);
    const shift = heapF32(mods, at(x), c);
    const meanV = heapF32(mods, at(mean), c);
    for (let j = 0; j < c; j++) meanV[j] = shift[j] + sums[j] / m;
  } finally {
    backend.wasm._free(scratch);
  }
  return mean;
}

export function registerBatchNormKernels(): void {
  registerWasmKernelOnce(BATCH_MEAN_KERNEL, batchMeanKernel as unknown as tf.KernelFunc);
  registerWasmKernelOnce(BN_TRAIN_KERNEL, batchNormTrainKernel as unknown as tf.KernelFunc);
  registerWasmKernelOnce(BN_TRAIN_GRAD_KERNEL, batchNormTrainGradKernel as unknown as tf.KernelFunc);
}

/**
 * Our kernels take non-empty float32 tensors on a wasm backend whose heap our modules
 * could join. Registers them where registerWasmOps did not run (a worker thread's tfjs).
 */
function usable(x: tf.Tensor): boolean {
  if (x.dtype !== 'float32' || x.size === 0 || x.rank === 0 || simdModules() === null) return false;
  registerBatchNormKernels();
  return true;
}

export const wasmBatchNormTrain: BatchNormTrainFn = (x, gamma, beta, epsilon) => {
  if (!usable(x)) return stockBatchNormTrain(x, gamma, beta, epsilon);
  const [y, mean, variance] = tf
    .engine()
    .runKernel(BN_TRAIN_KERNEL, { x, gamma, beta }, { epsilon }) as tf.Tensor[];
  return { y, mean: mean as tf.Tensor1D, variance: variance as tf.Tensor1D };
};

export const wasmBatchNormTrainGrad: BatchNormTrainGradFn = (dy, x, mean, variance, gamma, epsilon) => {
  if (!usable(x)) return stockBatchNormTrainGrad(dy, x, mean, variance, gamma, epsilon);
  const [dx, dGamma, dBeta] = tf
    .engine()
    .runKernel(BN_TRAIN_GRAD_KERNEL, { dy, x, mean, variance, gamma }, { epsilon }) as tf.Tensor[];
  return { dx, dGamma: dGamma as tf.Tensor1D, dBeta: dBeta as tf.Tensor1D };
};

/** Mean over the leading (batch) axis, as a [1, …] tensor. */
export const wasmBatchMean: BatchMeanFn = (t) => {
  if (!usable(t)) return stockBatchMean(t);
  const n = t.shape[0];
  const rows = tf.reshape(t, [n, t.size / n]);
  const mean = tf.engine().runKernel(BATCH_MEAN_KERNEL, { x: rows }, { epsilon: 0 }) as tf.Tensor;
  rows.dispose();
  const out = tf.reshape(mean, [1, ...t.shape.slice(1)]);
  mean.dispose();
  return out;
};
