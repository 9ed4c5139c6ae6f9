/**
 * out[i] = Σ_p partials[p·n + i], n = the output's size: the second pass of a
 * split reduction (the filter gradient's split-K). Reads are coalesced (consecutive
 * threads, consecutive i); one dispatch.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ElementwiseProgram, runElementwise } from './elementwise.js';
import type { WebGPUBackend } from './program.js';

/**
 * Sum the `numPartials` consecutive blocks of prod(outShape) floats of `partials` into
 * a new tensor of `outShape`. Does not dispose `partials`.
 */
export function sumPartials(
  backend: WebGPUBackend,
  partials: tf.TensorInfo,
  numPartials: number,
  outShape: number[],
): tf.TensorInfo {
  // Rank-1 views in and out, so one compiled pipeline serves every shape.
  const program = new ElementwiseProgram(
    'wtrainSumPartials',
    ['partials'],
    'acc',
    tf.util.sizeFromShape(outShape),
    'numPartials : i32,',
    `var acc = 0.0;
          for (var p = 0; p < uniforms.numPartials; p = p + 1) {
            acc = acc + partials[p * uniforms.size + index];
          }`,
  );
  return runElementwise(backend, program, [partials], outShape, [{ type: 'int32', data: [numPartials] }]);
}
