/**
 * One thread per element of rank-1 views: the shape of most of the project's tfjs
 * programs (SGD, ReLU backward, BatchNorm's normalise and dx passes, the second pass of
 * split reductions, ...). Each replaces a chain of tf ops, their scalar uploads and
 * intermediate buffers with one dispatch whose scalars travel as uniforms.
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  flatDispatch,
  type ProgramUniforms,
  registerWebgpuKernel,
  type WebGPUBackend,
  type WebGPUProgram,
} from './program.js';

const WORKGROUP = 256;

export class ElementwiseProgram implements WebGPUProgram {
  outputShape: number[];
  dispatchLayout = { x: [0] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number] = [WORKGROUP, 1, 1];
  size = true;

  /**
   * `expr` computes element `index` from the arrays named in `variableNames` (list only
   * those it reads: WebGPU's 'auto' layout drops unused bindings) and `uniforms.*`
   * (`uniforms.size` = `elements`), after the statements in `prelude` (loops, lets).
   */
  constructor(
    readonly shaderKey: string,
    readonly variableNames: string[],
    private readonly expr: string,
    elements: number,
    readonly uniforms?: string,
    private readonly prelude = '',
  ) {
    this.outputShape = [elements];
    this.dispatch = flatDispatch(elements, WORKGROUP);
  }

  getUserCode(): string {
    return `
      fn main(index : i32) {
        if (index < uniforms.size) {
          ${this.prelude}
          result[index] = ${this.expr};
        }
      }`;
  }
}

/** Run `program` on rank-1 views of `inputs`; the result takes `shape`. */
export function runElementwise(
  backend: WebGPUBackend,
  program: ElementwiseProgram,
  inputs: tf.TensorInfo[],
  shape: number[],
  uniforms?: ProgramUniforms,
): tf.TensorInfo {
  const flat = inputs.map((t) => ({ ...t, shape: [tf.util.sizeFromShape(t.shape)] }));
  const out = backend.runWebGPUProgram(program, flat, 'float32', uniforms);
  return { ...out, shape };
}

export const COPY_KERNEL = 'WtrainCopy';

/** A bit-exact copy into a new buffer (tf.clone shares the buffer). */
function copyKernel({
  inputs,
  backend,
}: {
  inputs: { x: tf.TensorInfo };
  backend: WebGPUBackend;
}): tf.TensorInfo {
  const { x } = inputs;
  const program = new ElementwiseProgram('wtrainCopy', ['x'], 'x[index]', tf.util.sizeFromShape(x.shape));
  return runElementwise(backend, program, [x], x.shape);
}

export function registerCopyKernel(): void {
  registerWebgpuKernel(COPY_KERNEL, copyKernel);
}
