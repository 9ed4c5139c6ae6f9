/**
 * One way to define a tfjs kernel on the wasm backend whose body calls our SIMD
 * modules: the body gets the backend, the modules bound to its heap, tensors' heap
 * offsets and new outputs. Kernels register on first use (registerWasmOps runs before
 * the backend exists), so they show in tf.profile like tfjs's own.
 */
import * as tf from '@tensorflow/tfjs-core';
import { heapOffset, type SimdModules, simdModules, type WasmBackend } from './index.js';

export interface SimdCall {
  backend: WasmBackend;
  mods: SimdModules;
  /** Heap byte offset of a tensor's data. */
  at(t: tf.TensorInfo): number;
  /** A new float32 output (uninitialised). */
  output(shape: number[]): tf.TensorInfo;
}

type Body<I extends string, A> = (
  k: SimdCall,
  inputs: Record<I, tf.TensorInfo>,
  attrs: A,
) => tf.TensorInfo | tf.TensorInfo[];

export interface SimdKernel<I extends string, A> {
  name: string;
  /**
   * The kernel's outputs, or null where it can't run (an input that is not a
   * non-empty float32 tensor, or no SIMD modules for this heap): the caller's stock path.
   */
  run(inputs: Partial<Record<I, tf.Tensor>>, attrs: A): tf.Tensor[] | null;
}

export function simdKernel<I extends string, A extends object = Record<string, never>>(
  name: string,
  body: Body<I, A>,
): SimdKernel<I, A> {
  const kernelFunc = (args: { inputs: Record<I, tf.TensorInfo>; backend: tf.KernelBackend; attrs: A }) => {
    const backend = args.backend as unknown as WasmBackend;
    const call: SimdCall = {
      backend,
      mods: simdModules(backend) as SimdModules,
      at: (t) => heapOffset(backend, t),
      output: (shape) => backend.makeOutput(shape, 'float32'),
    };
    return body(call, args.inputs, args.attrs);
  };
  return {
    name,
    run(inputs, attrs) {
      const tensors = Object.values(inputs) as tf.Tensor[];
      if (!tensors.every((t) => t.dtype === 'float32' && t.size > 0 && t.rank > 0) || !simdModules())
        return null;
      if (!tf.getKernel(name, 'wasm'))
        tf.registerKernel({
          kernelName: name,
          backendName: 'wasm',
          kernelFunc: kernelFunc as unknown as tf.KernelFunc,
        });
      const out = tf
        .engine()
        .runKernel(name, inputs as tf.NamedTensorMap, attrs as unknown as tf.NamedAttrMap);
      return Array.isArray(out) ? (out as tf.Tensor[]) : [out as tf.Tensor];
    },
  };
}
