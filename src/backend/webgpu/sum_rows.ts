/**
 * out[i] = Σ_r x[r·n + i] over `rows` consecutive blocks of n = prod(outShape) floats:
 * the second pass of a split reduction (the filter gradient's split-K), and with
 * `relu`/`mean` WM's per-feature mean of ReLU(z) over the mirror batch. Reads are
 * coalesced (consecutive threads, consecutive i); one dispatch.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ElementwiseProgram, runElementwise } from './elementwise.js';
import type { WebGPUBackend } from './program.js';

export interface SumRowsOptions {
  /** Sum ReLU(x) instead of x. */
  relu?: boolean;
  /** Divide by `rows` (a mean). */
  mean?: boolean;
}

/** The row sums (or means) of `x` viewed as [rows, prod(outShape)], shaped `outShape`. Does not dispose `x`. */
export function sumRows(
  backend: WebGPUBackend,
  x: tf.TensorInfo,
  rows: number,
  outShape: number[],
  { relu = false, mean = false }: SumRowsOptions = {},
): tf.TensorInfo {
  const term = relu ? 'max(x[r * uniforms.size + index], 0.0)' : 'x[r * uniforms.size + index]';
  // Rank-1 views in and out, so one compiled pipeline per variant serves every shape.
  const program = new ElementwiseProgram(
    `wtrainSumRows_${relu ? 'relu' : 'id'}_${mean ? 'mean' : 'sum'}`,
    ['x'],
    mean ? 'acc / f32(uniforms.rows)' : 'acc',
    tf.util.sizeFromShape(outShape),
    'rows : i32,',
    `var acc = 0.0;
          for (var r = 0; r < uniforms.rows; r = r + 1) {
            acc = acc + ${term};
          }`,
  );
  return runElementwise(backend, program, [x], outShape, [{ type: 'int32', data: [rows] }]);
}
