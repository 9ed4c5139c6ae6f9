/**
 * out[i] = Σ_p partials[offset + p·n + i], n = the output's size: the second pass of a
 * split reduction. Reads are coalesced (consecutive threads, consecutive i); one dispatch.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { flatDispatch, type ProgramUniforms, type WebGPUBackend, type WebGPUProgram } from './program.js';

const WORKGROUP = 256;

class SumPartialsProgram implements WebGPUProgram {
  variableNames = ['partials'];
  uniforms = 'numPartials : i32, offset : i32,';
  outputShape: number[];
  shaderKey = 'wtrainSumPartials';
  dispatchLayout = { x: [0] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number] = [WORKGROUP, 1, 1];
  size = true;

  constructor(elements: number) {
    this.outputShape = [elements];
    this.dispatch = flatDispatch(elements, WORKGROUP);
  }

  getUserCode(): string {
    return `
      fn main(index : i32) {
        if (index < uniforms.size) {
          var acc = 0.0;
          for (var p = 0; p < uniforms.numPartials; p = p + 1) {
            acc = acc + partials[uniforms.offset + p * uniforms.size + index];
          }
          setOutputAtIndex(index, acc);
        }
      }`;
  }
}

/**
 * Sum the `numPartials` consecutive blocks of prod(outShape) floats that start at float
 * `offset` of `partials` into a new tensor of `outShape`. Does not dispose `partials`.
 */
export function sumPartials(
  backend: WebGPUBackend,
  partials: tf.TensorInfo,
  numPartials: number,
  outShape: number[],
  offset = 0,
): tf.TensorInfo {
  const elements = outShape.reduce((a, b) => a * b, 1);
  // Rank-1 views in and out, so one compiled pipeline serves every shape.
  const program = new SumPartialsProgram(elements);
  const uniforms: ProgramUniforms = [
    { type: 'int32', data: [numPartials] },
    { type: 'int32', data: [offset] },
  ];
  const input = { ...partials, shape: [partials.shape.reduce((a, b) => a * b, 1)] };
  const out = backend.runWebGPUProgram(program, [input], 'float32', uniforms);
  return { ...out, shape: outShape };
}
