/**
 * Small helpers shared by the project's WebGPU programs (tfjs-backend-webgpu's
 * `WebGPUProgram` contract: tfjs generates the WGSL header with the bindings
 * `result`, one storage array per `variableNames` entry and `uniforms`, then
 * appends `getUserCode()`).
 */

import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import * as tf from '@tensorflow/tfjs-core';

export type { WebGPUBackend, WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';

/** The uniform values a program passes to `runWebGPUProgram`, in `uniforms` order. */
export type ProgramUniforms = Array<{ type: 'int32' | 'uint32' | 'float32'; data: number[] }>;

export interface KernelArgs<I extends string, A> {
  inputs: Record<I, tf.TensorInfo>;
  backend: WebGPUBackend;
  attrs: A;
}

export const ceilDiv = (a: number, b: number): number => Math.ceil(a / b);

/**
 * A rank-1 view of a tensor: tfjs's shader key includes ranks and broadcast patterns,
 * so kernels that index flat arrays themselves share one compiled pipeline across shapes.
 */
export const rank1 = (t: tf.TensorInfo): tf.TensorInfo => ({ ...t, shape: [tf.util.sizeFromShape(t.shape)] });

/** One thread per output element, workgroups of `size` threads along x (tfjs reshapes > 65535). */
export function flatDispatch(elements: number, size: number): [number, number, number] {
  return [Math.max(1, ceilDiv(elements, size)), 1, 1];
}

/** Register a kernel for the webgpu backend once (re-registering makes tfjs warn). */
export function registerWebgpuKernel<I extends string, A>(
  kernelName: string,
  kernelFunc: (args: KernelArgs<I, A>) => tf.TensorInfo | tf.TensorInfo[],
): void {
  if (tf.getKernel(kernelName, 'webgpu')) return;
  tf.registerKernel({
    kernelName,
    backendName: 'webgpu',
    kernelFunc: kernelFunc as unknown as tf.KernelFunc,
  });
}
