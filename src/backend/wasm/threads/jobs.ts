/**
 * The work a wasm thread can do: the three convolutions of a training step, each run
 * on a slice of the batch by the single-threaded implementation. Shared by the main
 * thread and the workers, so a part computes identically wherever it runs.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { wasmConv2d } from '../conv2d.js';
import { wasmConv2dFilterGrad } from '../conv2d_filter_grad.js';
import { wasmConv2dInputGrad } from '../conv2d_input_grad.js';

export interface ConvAttrs {
  stride: number;
  pad: number;
  /** conv2dFilterGrad: the filter's HWIO shape. */
  filterShape?: [number, number, number, number];
  /** conv2dInputGrad: x's shape without the batch dimension. */
  xRowShape?: [number, number, number];
}

type JobFn = (inputs: tf.Tensor[], attrs: ConvAttrs) => tf.Tensor;

export const JOBS = {
  conv2d: ([x, f], a) => wasmConv2d(x as tf.Tensor4D, f as tf.Tensor4D, a.stride, a.pad),
  conv2dInputGrad: ([dy, f], a) =>
    wasmConv2dInputGrad(
      dy as tf.Tensor4D,
      f as tf.Tensor4D,
      [dy.shape[0], ...(a.xRowShape as [number, number, number])],
      a.stride,
      a.pad,
    ),
  conv2dFilterGrad: ([x, dy], a) =>
    wasmConv2dFilterGrad(
      x as tf.Tensor4D,
      dy as tf.Tensor4D,
      a.filterShape as [number, number, number, number],
      a.stride,
      a.pad,
    ),
} satisfies Record<string, JobFn>;

export type JobName = keyof typeof JOBS;

/** Where one tensor of a job lies in the shared buffer (float index) and its shape. */
export interface Placed {
  at: number;
  shape: number[];
}

/** A job message: inputs already copied into `buffer`, the result to be written at `out`. */
export interface JobMessage {
  job: JobName | 'stall';
  attrs: ConvAttrs;
  inputs: Placed[];
  out: Placed;
  /** Sent when the buffer was (re)allocated; otherwise the worker keeps the last one. */
  buffer?: SharedArrayBuffer;
}

/** Control words (Int32Array over a SharedArrayBuffer), one block per worker. */
export const CTRL = {
  /** Sequence number of the last job posted (main writes; -1 asks the worker to exit). */
  posted: 0,
  /** Sequence number of the last job finished (worker writes). */
  done: 1,
  /** 0 when the last job succeeded, 1 when it threw (its message follows on the port). */
  failed: 2,
  words: 4,
} as const;
