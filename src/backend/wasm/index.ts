import { registerOpImpl } from '../ops/registry.js';
import { wasmConv2d } from './conv2d.js';
import { wasmConv2dFilterGrad } from './conv2d_filter_grad.js';
import { wasmConv2dInputGrad } from './conv2d_input_grad.js';
import {
  wasmBatchMean,
  wasmBatchNormTrain,
  wasmBatchNormTrainGrad,
  wasmReluBatchNormTrain,
  wasmReluBatchNormTrainGrad,
} from './simd/batch_norm.js';
import { wasmMaxPoolGrad } from './simd/max_pool_grad.js';
import { wasmCentredRelu, wasmReluGrad } from './simd/relu.js';
import { wasmMirrorUpdate, wasmSgdUpdate } from './simd/sgd.js';
import { wasmSignTimes } from './simd/sign.js';

/**
 * Route the training ops the wasm backend lacks (or runs slowly) to our implementations.
 * Runs before the backend exists: our SIMD modules (simd/) join its heap, and their
 * kernels register, on first use.
 */
export function registerWasmOps(): void {
  registerOpImpl('conv2d', 'wasm', wasmConv2d);
  registerOpImpl('conv2dFilterGrad', 'wasm', wasmConv2dFilterGrad);
  registerOpImpl('conv2dInputGrad', 'wasm', wasmConv2dInputGrad);
  registerOpImpl('batchNormTrain', 'wasm', wasmBatchNormTrain);
  registerOpImpl('batchNormTrainGrad', 'wasm', wasmBatchNormTrainGrad);
  registerOpImpl('reluBatchNormTrain', 'wasm', wasmReluBatchNormTrain);
  registerOpImpl('reluBatchNormTrainGrad', 'wasm', wasmReluBatchNormTrainGrad);
  registerOpImpl('batchMean', 'wasm', wasmBatchMean);
  registerOpImpl('sgdUpdate', 'wasm', wasmSgdUpdate);
  registerOpImpl('mirrorUpdate', 'wasm', wasmMirrorUpdate);
  registerOpImpl('signTimes', 'wasm', wasmSignTimes);
  registerOpImpl('reluGrad', 'wasm', wasmReluGrad);
  registerOpImpl('centredRelu', 'wasm', wasmCentredRelu);
  registerOpImpl('maxPoolGrad', 'wasm', wasmMaxPoolGrad);
}
