/**
 * The three convolutions of a training step as tfjs kernels on the wasm backend,
 * computed by conv2d.wat through the plans in conv_plans.ts (see there for the maths).
 * With `backend.threads` > 1 each kernel splits its batch across the worker threads
 * (threads/); otherwise, and for small work, it runs on the calling thread.
 *
 * The public functions return null where a kernel does not apply (channel counts
 * that are not multiples of its tile, no SIMD) and the caller uses its XNNPACK route.
 */
import * as tf from '@tensorflow/tfjs-core';
import { activePool } from '../threads/index.js';
import {
  type ConvGeometry,
  type ConvPlan,
  filterGradPlan,
  forwardPlan,
  inputGradPlan,
  rowOffset,
  runCalls,
} from './conv_plans.js';
import {
  heapOffset,
  registerWasmKernelOnce,
  type SimdModules,
  simdModules,
  type WasmBackend,
} from './index.js';

export const CONV_KERNEL = 'WtrainConv2D';
export const INPUT_GRAD_KERNEL = 'WtrainConv2DInputGrad';
export const FILTER_GRAD_KERNEL = 'WtrainConv2DFilterGrad';
export const SWAP_IO_KERNEL = 'WtrainFilterSwapIO';

type Shape4 = [number, number, number, number];

/** The calling thread's side of a plan: its heap, the tensors' offsets, parts run in place. */
export interface MainSide {
  heap(): ArrayBuffer;
  inputs: number[];
  out: number;
  /** Run rows [start, start + count) here, writing the result at `out` (default: the result tensor). */
  runPart(start: number, count: number, out?: number): void;
  alloc(bytes: number): number;
  free(ptr: number): void;
}

function execute(backend: WasmBackend, plan: ConvPlan, inputs: tf.TensorInfo[], out: tf.TensorInfo): void {
  const { conv } = simdModules(backend) as SimdModules;
  const at = { inputs: inputs.map((t) => heapOffset(backend, t)), out: heapOffset(backend, out) };
  const main: MainSide = {
    heap: () => backend.wasm.HEAPU8.buffer as ArrayBuffer,
    inputs: at.inputs,
    out: at.out,
    alloc: (bytes) => backend.wasm._malloc(bytes),
    free: (ptr) => backend.wasm._free(ptr),
    runPart(start, count, partOut) {
      const scratch = plan.scratchPerRow > 0 ? backend.wasm._malloc(count * plan.scratchPerRow * 4) : 0;
      try {
        const concat = plan.out.combine === 'concat';
        runCalls(
          conv,
          plan.calls(count, {
            inputs: plan.inputs.map((p, k) =>
              p.split ? rowOffset(at.inputs[k], p.floats, start) : at.inputs[k],
            ),
            out: partOut ?? (concat ? rowOffset(at.out, plan.out.floats, start) : at.out),
            scratch,
          }),
        );
      } finally {
        if (scratch) backend.wasm._free(scratch);
      }
    },
  };
  const pool = activePool();
  if (pool) pool.run(plan, main);
  else main.runPart(0, plan.rows);
}

interface KernelArgs<I extends string, A> {
  inputs: Record<I, tf.TensorInfo>;
  backend: tf.KernelBackend;
  attrs: A;
}

const geometry = (x: number[], filter: number[], stride: number, pad: number): ConvGeometry => ({
  n: x[0],
  h: x[1],
  w: x[2],
  c: filter[2],
  o: filter[3],
  kh: filter[0],
  kw: filter[1],
  stride,
  pad,
});

type ConvAttrs = { stride: number; pad: number };

/** A new output of `shape` computed by `plan` from `inputs`. */
function planned(backend: tf.KernelBackend, shape: number[], plan: ConvPlan, inputs: tf.TensorInfo[]) {
  const b = backend as unknown as WasmBackend;
  const out = b.makeOutput(shape, 'float32');
  execute(b, plan, inputs, out);
  return out;
}

/** inputs x, filter → y. */
function convKernel({ inputs: { x, filter }, backend, attrs: a }: KernelArgs<'x' | 'filter', ConvAttrs>) {
  const plan = forwardPlan(geometry(x.shape, filter.shape, a.stride, a.pad));
  return planned(backend, [plan.rows, ...outRowShape(x.shape, filter.shape, a)], plan, [x, filter]);
}

/** inputs dy, rotated ([kh, kw, o, c]: rot180(F)ᵀ at stride 1, Fᵀ per tap beyond) → δ_in of shape xShape. */
function inputGradKernel({
  inputs: { dy, rotated },
  backend,
  attrs: a,
}: KernelArgs<'dy' | 'rotated', ConvAttrs & { xShape: Shape4 }>) {
  const [kh, kw, o, c] = rotated.shape;
  const plan = inputGradPlan(geometry(a.xShape, [kh, kw, c, o], a.stride, a.pad));
  return planned(backend, a.xShape, plan, [dy, rotated]);
}

/** inputs x, dy → ΔW of filterShape. */
function filterGradKernel({
  inputs: { x, dy },
  backend,
  attrs: a,
}: KernelArgs<'x' | 'dy', ConvAttrs & { filterShape: Shape4 }>) {
  const plan = filterGradPlan(geometry(x.shape, a.filterShape, a.stride, a.pad));
  return planned(backend, a.filterShape, plan, [x, dy]);
}

/** inputs filter [kh, kw, c, o]; attrs flip → [kh, kw, o, c], rotated 180° when flip. */
function swapIoKernel({ inputs: { filter }, backend, attrs: a }: KernelArgs<'filter', { flip: boolean }>) {
  const b = backend as unknown as WasmBackend;
  const { conv } = simdModules(b) as SimdModules;
  const [kh, kw, c, o] = filter.shape;
  const out = b.makeOutput([kh, kw, o, c], 'float32');
  conv.filter_swap_io(heapOffset(b, filter), heapOffset(b, out), kh * kw, c, o, a.flip ? 1 : 0);
  return out;
}

function outRowShape(x: number[], filter: number[], a: ConvAttrs): number[] {
  const out = (size: number, k: number) => Math.floor((size + 2 * a.pad - k) / a.stride) + 1;
  return [out(x[1], filter[0]), out(x[2], filter[1]), filter[3]];
}

export function registerConvKernels(): void {
  registerWasmKernelOnce(CONV_KERNEL, convKernel as unknown as tf.KernelFunc);
  registerWasmKernelOnce(INPUT_GRAD_KERNEL, inputGradKernel as unknown as tf.KernelFunc);
  registerWasmKernelOnce(FILTER_GRAD_KERNEL, filterGradKernel as unknown as tf.KernelFunc);
  registerWasmKernelOnce(SWAP_IO_KERNEL, swapIoKernel as unknown as tf.KernelFunc);
}

const run = (name: string, inputs: tf.NamedTensorMap, attrs: object): tf.Tensor4D =>
  tf.engine().runKernel(name, inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor4D;

const ready = (): boolean => {
  if (!simdModules()) return false;
  registerConvKernels();
  return true;
};

/** conv(x, filter) with symmetric zero padding; null unless O % 8 == 0. */
export function simdConv2d(
  x: tf.Tensor4D,
  filter: tf.Tensor4D,
  stride: number,
  pad: number,
): tf.Tensor4D | null {
  if (filter.shape[3] % 8 !== 0 || !ready()) return null;
  return run(CONV_KERNEL, { x, filter }, { stride, pad });
}

/** δ_in (eq. 3) through `filter` (the rule's F); null unless C % 8 == 0 and p ≤ k − 1. */
export function simdConv2dInputGrad(
  dy: tf.Tensor4D,
  filter: tf.Tensor4D,
  xShape: Shape4,
  stride: number,
  pad: number,
): tf.Tensor4D | null {
  const [kh, kw, ci] = filter.shape;
  if (ci % 8 !== 0 || pad > kh - 1 || pad > kw - 1 || !ready()) return null;
  return tf.tidy(() => {
    // See inputGradPlan: rotated for stride 1, not for the strided kernel.
    const rotated = run(SWAP_IO_KERNEL, { filter }, { flip: stride === 1 });
    return run(INPUT_GRAD_KERNEL, { dy, rotated }, { xShape, stride, pad });
  });
}

/**
 * ΔW (eq. 4); null unless O % 8 == 0. Input channels that are not a multiple of 4 (a
 * network's RGB input) are zero-padded to one, and the padded rows of ΔW dropped.
 */
export function simdConv2dFilterGrad(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  filterShape: Shape4,
  stride: number,
  pad: number,
): tf.Tensor4D | null {
  if (filterShape[3] % 8 !== 0 || !ready()) return null;
  const [kh, kw, c, o] = filterShape;
  if (c % 4 === 0) return run(FILTER_GRAD_KERNEL, { x, dy }, { filterShape, stride, pad });
  const c4 = c + 4 - (c % 4);
  return tf.tidy(() => {
    const x4 = tf.pad(x, [
      [0, 0],
      [0, 0],
      [0, 0],
      [0, c4 - c],
    ]);
    const dW = run(FILTER_GRAD_KERNEL, { x: x4, dy }, { filterShape: [kh, kw, c4, o], stride, pad });
    return tf.slice(dW, [0, 0, 0, 0], filterShape);
  });
}
