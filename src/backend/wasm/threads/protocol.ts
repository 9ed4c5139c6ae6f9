/**
 * The main thread ↔ wasm worker protocol: one shared WebAssembly.Memory per worker.
 * Its first CTRL.bytes hold Int32 control words, then the part's data (inputs, result,
 * scratch), 16-byte aligned. A job is a list of conv2d.wat calls with byte offsets
 * into that memory, written at CTRL.calls as [count, (fn, argc, ...args)*].
 */
import type { ConvExports } from '../simd/index.js';

export const CTRL = {
  /** Sequence number of the last job posted (main writes; −1 asks the worker to exit). */
  posted: 0,
  /** Sequence number of the last job finished (the worker writes). */
  done: 1,
  /** 0 when the last job succeeded, 1 when it threw (its message follows on the port). */
  failed: 2,
  /** Never written: the worker waits on it to simulate a hang (tests of the watchdog). */
  idle: 3,
  /** Start of the call list; a negative count asks for the simulated hang. */
  calls: 4,
  words: 1024,
  bytes: 4096,
} as const;

/** Function numbers in the call list. */
export const FNS: Array<keyof ConvExports> = [
  'pad_dilate',
  'conv2d_valid',
  'conv2d_filter_grad',
  'conv2d_input_grad_strided',
  'conv2d_filter_grad_packed',
  'filter_wino',
  'conv2d_wino',
];
