/**
 * `backend: {name: wasm, threads: k}`: k − 1 worker threads join the main one for the
 * three convolutions of a step (forward, input gradient, filter gradient; ~60 % of a
 * ResNet step on wasm), each thread taking a slice of the batch:
 *   y and δ_in: slices of rows, concatenated;   ΔW (eq. 4): the slices' sums, added.
 * Everything else runs on the main thread. Small convolutions stay on one thread.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { Conv2dFn } from '../../ops/conv2d.js';
import type { Conv2dFilterGradFn } from '../../ops/conv2d_filter_grad.js';
import type { Conv2dInputGradFn } from '../../ops/conv2d_input_grad.js';
import { registerOpImpl } from '../../ops/registry.js';
import { JOBS } from './jobs.js';
import { type PoolOptions, WasmThreadPool } from './pool.js';

/** Below this many multiply-adds a convolution is not worth splitting (copies, wake-ups). */
const MIN_MACS = 4e6;

let pool: WasmThreadPool | null = null;

const macs = (outElems: number, filter: number[]) => outElems * filter[0] * filter[1] * filter[2];

const threadedConv2d: Conv2dFn = (x, filter, stride, pad) => {
  const n = x.shape[0];
  const outRows = Math.floor((x.shape[1] + 2 * pad - filter.shape[0]) / stride) + 1;
  const outCols = Math.floor((x.shape[2] + 2 * pad - filter.shape[1]) / stride) + 1;
  const work = macs(n * outRows * outCols * filter.shape[3], filter.shape);
  if (!pool || n < 2 || work < MIN_MACS) return JOBS.conv2d([x, filter], { stride, pad }) as tf.Tensor4D;
  return pool.run('conv2d', { stride, pad }, [x, filter], [true, false], 'concat') as tf.Tensor4D;
};

const threadedInputGrad: Conv2dInputGradFn = (dy, filter, xShape, stride, pad) => {
  const attrs = { stride, pad, xRowShape: xShape.slice(1) as [number, number, number] };
  if (!pool || xShape[0] < 2 || macs(dy.size, filter.shape) < MIN_MACS)
    return JOBS.conv2dInputGrad([dy, filter], attrs) as tf.Tensor4D;
  return pool.run('conv2dInputGrad', attrs, [dy, filter], [true, false], 'concat') as tf.Tensor4D;
};

const threadedFilterGrad: Conv2dFilterGradFn = (x, dy, filterShape, stride, pad) => {
  const attrs = { stride, pad, filterShape };
  if (!pool || x.shape[0] < 2 || macs(dy.size, filterShape) < MIN_MACS)
    return JOBS.conv2dFilterGrad([x, dy], attrs) as tf.Tensor4D;
  return pool.run('conv2dFilterGrad', attrs, [x, dy], [true, true], 'sum') as tf.Tensor4D;
};

/**
 * Start `threads − 1` workers and route the convolutions through them. Throws when
 * the workers can't start (the caller falls back to one thread).
 */
export async function startWasmThreads(threads: number, opts: PoolOptions = {}): Promise<WasmThreadPool> {
  stopWasmThreads();
  pool = await WasmThreadPool.start(threads - 1, opts);
  registerOpImpl('conv2d', 'wasm', threadedConv2d);
  registerOpImpl('conv2dInputGrad', 'wasm', threadedInputGrad);
  registerOpImpl('conv2dFilterGrad', 'wasm', threadedFilterGrad);
  return pool;
}

/** Stop the workers; the threaded ops then run on the main thread alone. */
export function stopWasmThreads(): void {
  pool?.shutdown();
  pool = null;
}
