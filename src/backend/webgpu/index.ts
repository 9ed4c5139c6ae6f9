/**
 * The webgpu backend (Dawn in Node): start-up and the project's kernels that replace
 * slow stock tfjs-webgpu ones for training. See docs/gpu.md.
 */
import * as tf from '@tensorflow/tfjs-core';
import { stockConv2dFilterGrad } from '../ops/conv2d_filter_grad.js';
import { registerOpImpl } from '../ops/registry.js';
import {
  registerBatchNormKernels,
  webgpuBatchNormTrain,
  webgpuBatchNormTrainGrad,
  webgpuReluBatchNormTrain,
  webgpuReluBatchNormTrainGrad,
} from './batch_norm.js';
import { registerCentredReluKernel, webgpuCentredRelu } from './centred_relu.js';
import {
  registerConv2dFilterGradKernel,
  setFilterGradTargetWorkgroups,
  webgpuConv2dFilterGrad,
} from './conv2d_filter_grad.js';
import { type InputGradChoice, setInputGradChoice, webgpuConv2dInputGrad } from './conv2d_input_grad.js';
import { registerCopyKernel } from './elementwise.js';
import { setHostCaches } from './host_caches.js';
import { registerMirrorUpdateKernel, webgpuMirrorUpdate } from './mirror_update.js';
import { registerNormalNoiseKernel, webgpuNormalNoise } from './normal_noise.js';
import { registerNormalizeImagesKernel, webgpuNormalizeImages } from './normalize_images.js';
import type { WebGPUBackend } from './program.js';
import { registerReluGradKernel, webgpuAddRelu, webgpuReluGrad } from './relu_grad.js';
import { registerSgdKernel, webgpuSgdUpdate } from './sgd.js';
import { makeWebgpuSgdUpdateMany } from './sgd_many.js';
import { registerSignTimesKernel, webgpuSignTimes } from './sign_times.js';
import { registerTrainLossKernel, webgpuTrainLoss } from './train_loss.js';

export type { BatchNormTrainFn, BatchNormTrainGradFn } from './batch_norm.js';
export { describeVulkanSetup } from './diagnose.js';
export { initWebgpuBackend, type WebgpuInitResult } from './init.js';
export type { SgdUpdateFn } from './sgd.js';
export { webgpuFinish, webgpuThrottle } from './sync.js';

export interface WebgpuTuning {
  /** conv2dFilterGrad: our split-K implicit GEMM, or tfjs's stock kernel (one thread per filter element). */
  filterGrad: 'splitk' | 'stock';
  /**
   * conv2dInputGrad: tfjs's tiled matmul-style program, its naive one (tfjs's default),
   * or by layer shape (conv2d_input_grad.ts, `auto-strided`: naive where x has < 16
   * pixels per image or at stride > 1 with a filter wider than 1).
   */
  inputGrad: InputGradChoice;
  /** How many workgroups the split-K filter gradient aims for. */
  filterGradWorkgroups: number;
  /** Kernel dispatches per command-buffer submit (tfjs's WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE). */
  submitBatch: number;
  /** The optimiser step: several parameters per dispatch, in place, or 2 dispatches per parameter. */
  sgd: 'grouped' | 'each';
  /**
   * ReLU's backward, ReLU(a + b), the loss head, SS's sign(W)·M and WM's mirror update
   * and centred ReLU: one or two dispatches each; the after_relu ReLU inside BatchNorm's
   * passes. Or tf ops.
   */
  smallOps: 'fused' | 'stock';
  /** WM's mirror noise and SS's random magnitudes: drawn on the device, or on the host and uploaded. */
  noise: 'device' | 'host';
  /** The input batch: its bytes uploaded and normalised on the device, or converted to floats on the host. */
  inputs: 'device' | 'host';
  /** Reuse bind groups and write-once uniform buffers across dispatches (host_caches.ts), or make them per dispatch as tfjs does. */
  hostCaches: 'on' | 'off';
}

/**
 * Chosen from bench-gpu on an H100 (docs/gpu.md "Results", docs/gpu-results/): dx by
 * layer shape took ResNet-18 batch 512 from ~55 to ~36 ms/step; each other knob's
 * alternative was slower or within the run's drift. The alternatives left are the
 * baselines of a benchmark or of gpu-check, or knobs a coming measurement tunes; the
 * decided ones are retired (docs/gpu.md, "Retired alternatives").
 */
export const DEFAULT_WEBGPU_TUNING: Readonly<WebgpuTuning> = {
  filterGrad: 'splitk',
  inputGrad: 'auto-strided',
  filterGradWorkgroups: 1024,
  submitBatch: 15,
  sgd: 'grouped',
  smallOps: 'fused',
  noise: 'device',
  inputs: 'device',
  hostCaches: 'on',
};

function setFlag(name: string, value: boolean | number): void {
  try {
    tf.env().set(name, value);
  } catch {
    // The flag is registered by tfjs-backend-webgpu; without it there is nothing to tune.
  }
}

/**
 * Route the training ops whose stock webgpu kernels are slow to ours and set the
 * backend's knobs. Idempotent; later calls may change the tuning (the benchmark does).
 */
export function registerWebgpuOps(tuning: Partial<WebgpuTuning> = {}): void {
  const t = { ...DEFAULT_WEBGPU_TUNING, ...tuning };
  registerConv2dFilterGradKernel();
  setFilterGradTargetWorkgroups(t.filterGradWorkgroups);
  registerOpImpl(
    'conv2dFilterGrad',
    'webgpu',
    t.filterGrad === 'splitk' ? webgpuConv2dFilterGrad : stockConv2dFilterGrad,
  );
  registerOpImpl('conv2dInputGrad', 'webgpu', webgpuConv2dInputGrad);
  setInputGradChoice(t.inputGrad);
  registerBatchNormKernels();
  registerOpImpl('batchNormTrain', 'webgpu', webgpuBatchNormTrain);
  registerOpImpl('batchNormTrainGrad', 'webgpu', webgpuBatchNormTrainGrad);
  registerSgdKernel();
  registerOpImpl('sgdUpdate', 'webgpu', webgpuSgdUpdate);
  registerOpImpl(
    'sgdUpdateMany',
    'webgpu',
    t.sgd === 'grouped' ? makeWebgpuSgdUpdateMany(() => tf.backend() as unknown as WebGPUBackend) : undefined,
  );
  registerCopyKernel();
  registerReluGradKernel();
  registerSignTimesKernel();
  registerMirrorUpdateKernel();
  registerCentredReluKernel();
  registerTrainLossKernel();
  registerNormalNoiseKernel();
  registerNormalizeImagesKernel();
  const fused = t.smallOps === 'fused';
  registerOpImpl('reluGrad', 'webgpu', fused ? webgpuReluGrad : undefined);
  registerOpImpl('addRelu', 'webgpu', fused ? webgpuAddRelu : undefined);
  registerOpImpl('trainLoss', 'webgpu', fused ? webgpuTrainLoss : undefined);
  registerOpImpl('reluBatchNormTrain', 'webgpu', fused ? webgpuReluBatchNormTrain : undefined);
  registerOpImpl('reluBatchNormTrainGrad', 'webgpu', fused ? webgpuReluBatchNormTrainGrad : undefined);
  registerOpImpl('signTimes', 'webgpu', fused ? webgpuSignTimes : undefined);
  registerOpImpl('mirrorUpdate', 'webgpu', fused ? webgpuMirrorUpdate : undefined);
  registerOpImpl('centredRelu', 'webgpu', fused ? webgpuCentredRelu : undefined);
  registerOpImpl('normalNoise', 'webgpu', t.noise === 'device' ? webgpuNormalNoise : undefined);
  registerOpImpl('normalizeImages', 'webgpu', t.inputs === 'device' ? webgpuNormalizeImages : undefined);
  setHostCaches(t.hostCaches === 'on');
  setFlag('WEBGPU_USE_NAIVE_CONV2D_TRANSPOSE', t.inputGrad === 'naive');
  setFlag('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE', t.submitBatch);
}
