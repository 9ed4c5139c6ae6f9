import { registerOpImpl } from '../ops/registry.js';
import { wasmConv2dFilterGrad } from './conv2d_filter_grad.js';
import { wasmConv2dInputGrad } from './conv2d_input_grad.js';

/** Route the training ops the wasm backend lacks (or runs slowly) to our implementations. */
export function registerWasmOps(): void {
  registerOpImpl('conv2dFilterGrad', 'wasm', wasmConv2dFilterGrad);
  registerOpImpl('conv2dInputGrad', 'wasm', wasmConv2dInputGrad);
}
