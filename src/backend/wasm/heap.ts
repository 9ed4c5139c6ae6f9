/**
 * Direct access to the tfjs wasm backend's heap, for code that moves tensor data
 * without a round trip through JS arrays (the thread pool's copies). Views are
 * fetched fresh on every call: an allocation can grow the heap and detach old views.
 */
import * as tf from '@tensorflow/tfjs-core';

interface WasmBackendInternals {
  wasm: { HEAPF32: Float32Array };
  dataIdMap: { get(id: object): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: 'float32'): tf.TensorInfo;
}

function wasmBackend(): WasmBackendInternals {
  if (tf.getBackend() !== 'wasm') throw new Error(`expected the wasm backend, not ${tf.getBackend()}`);
  return tf.backend() as unknown as WasmBackendInternals;
}

/** The whole heap as floats (a fresh view). */
export function heapF32(): Float32Array {
  return wasmBackend().wasm.HEAPF32;
}

/** Index of a float32 tensor's first element in heapF32(). */
export function heapIndex(t: tf.Tensor): number {
  const entry = wasmBackend().dataIdMap.get(t.dataId);
  if (!entry || t.dtype !== 'float32') throw new Error('heapIndex: not a float32 wasm tensor');
  return entry.memoryOffset / 4;
}

/** A new float32 tensor with uninitialised contents, to be filled through heapF32(). */
export function emptyTensor(shape: number[]): tf.Tensor {
  const info = wasmBackend().makeOutput(shape, 'float32');
  return tf.engine().makeTensorFromTensorInfo(info);
}

/** A new tensor holding `count` rows (of shape.slice(1)) of `t` starting at row `start`. */
export function rowsOf(t: tf.Tensor, start: number, count: number): tf.Tensor {
  const row = t.size / t.shape[0];
  const out = emptyTensor([count, ...t.shape.slice(1)]);
  const from = heapIndex(t) + start * row;
  heapF32().copyWithin(heapIndex(out), from, from + count * row);
  return out;
}

/** A new tensor of `shape` filled from `src` (any float view, e.g. shared memory). */
export function tensorFrom(src: Float32Array, shape: number[]): tf.Tensor {
  const out = emptyTensor(shape);
  heapF32().set(src, heapIndex(out));
  return out;
}

/** Copy a tensor's contents into `dst`. */
export function copyOut(t: tf.Tensor, dst: Float32Array): void {
  const at = heapIndex(t);
  dst.set(heapF32().subarray(at, at + t.size));
}
