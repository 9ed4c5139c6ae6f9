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
import { convOutSize } from '../../ops/conv2d.js';
import { activePool } from '../threads/index.js';
import {
  type ConvGeometry,
  type ConvPlan,
  croppedTaps,
  filterGradPlan,
  forwardPlan,
  inputGradPlan,
  type MainSide,
  rowOffset,
  runCalls,
  scratchFloats,
} from './conv_plans.js';
import { heapOffset, type SimdModules, simdModules, type WasmBackend } from './index.js';
import { type SimdCall, simdKernel } from './kernel.js';

type Shape4 = [number, number, number, number];

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
      const floats = scratchFloats(plan, count);
      const scratch = floats > 0 ? backend.wasm._malloc(floats * 4) : 0;
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
function planned(k: SimdCall, shape: number[], plan: ConvPlan, inputs: tf.TensorInfo[]) {
  const out = k.output(shape);
  execute(k.backend, plan, inputs, out);
  return out;
}

function outRowShape(x: number[], filter: number[], a: ConvAttrs): number[] {
  return [
    convOutSize(x[1], filter[0], a.stride, a.pad),
    convOutSize(x[2], filter[1], a.stride, a.pad),
    filter[3],
  ];
}

type PackedAttrs = ConvAttrs & { filterShape: Shape4 };

/** inputs x, packed W (packFilter, no swap) → y. */
const convKernel = simdKernel<'x' | 'packed', PackedAttrs>('WtrainConv2D', (k, { x, packed }, a) => {
  const plan = forwardPlan(geometry(x.shape, a.filterShape, a.stride, a.pad));
  return planned(k, [plan.rows, ...outRowShape(x.shape, a.filterShape, a)], plan, [x, packed]);
});

/**
 * inputs dy, packed (packFilter with swap: rot180(F)ᵀ at stride 1, Fᵀ per tap beyond)
 * → δ_in of shape xShape.
 */
const inputGradKernel = simdKernel<'dy' | 'packed', PackedAttrs & { xShape: Shape4 }>(
  'WtrainConv2DInputGrad',
  (k, { dy, packed }, a) =>
    planned(k, a.xShape, inputGradPlan(geometry(a.xShape, a.filterShape, a.stride, a.pad)), [dy, packed]),
);

/** inputs x, dy → ΔW of filterShape. */
const filterGradKernel = simdKernel<'x' | 'dy', ConvAttrs & { filterShape: Shape4 }>(
  'WtrainConv2DFilterGrad',
  (k, { x, dy }, a) =>
    planned(k, a.filterShape, filterGradPlan(geometry(x.shape, a.filterShape, a.stride, a.pad)), [x, dy]),
);

/** lo: first tap kept in each dimension, k: taps kept (croppedTaps); none = the whole kernel. */
type PackAttrs = { flip: boolean; swap: boolean; lo: number; k: number };

/** inputs filter [kh, kw, c, o] → [g/8, rows, cols, gk, 8] with (gk, g) = swap ? (o, c) : (c, o). */
const packKernel = simdKernel<'filter', PackAttrs>('WtrainFilterPack', (k, { filter }, a) => {
  const [kh, kw, c, o] = filter.shape;
  const [gk, gn] = a.swap ? [o, c] : [c, o];
  const [rows, cols] = a.k > 0 ? [a.k, a.k] : [kh, kw];
  const out = k.output([gn / 8, rows, cols, gk, 8]);
  k.mods.conv.filter_pack(k.at(filter), k.at(out), kw, c, o, +a.flip, +a.swap, a.lo, a.lo, rows, cols);
  return out;
});

/**
 * The filter in the layout conv2d.wat reads: blocks of 8 output channels, each
 * [kh, kw, in, 8]; with `swap` the input gradient's kernel (channels swapped), rotated
 * 180° when `flip`; only the taps that meet real pixels of an h×w input (croppedTaps),
 * with the padding that keeps the convolution the same. Null where it can't run.
 */
function packFilter(
  filter: tf.Tensor4D,
  h: number,
  w: number,
  stride: number,
  pad: number,
  how: { flip: boolean; swap: boolean },
): { packed: tf.Tensor; shape: Shape4; pad: number } | null {
  const [kh, kw, c, o] = filter.shape;
  const crop = kh === kw ? croppedTaps(h, w, kh, stride, pad) : null;
  const packed = packKernel.run({ filter }, { ...how, lo: crop?.lo ?? 0, k: crop?.k ?? 0 })?.[0];
  if (!packed) return null;
  return crop
    ? { packed, shape: [crop.k, crop.k, c, o], pad: crop.pad }
    : { packed, shape: filter.shape, pad };
}

/** Run `kernel` on a packed filter, disposing it after. */
function withPacked<T>(packed: tf.Tensor | null, kernel: (p: tf.Tensor) => T | undefined): T | null {
  if (!packed) return null;
  try {
    return kernel(packed) ?? null;
  } finally {
    packed.dispose();
  }
}

/** inputs filter [kh, kw, c, o]; attrs flip → [kh, kw, o, c], rotated 180° when flip. */
const swapIoKernel = simdKernel<'filter', { flip: boolean }>('WtrainFilterSwapIO', (k, { filter }, a) => {
  const [kh, kw, c, o] = filter.shape;
  const out = k.output([kh, kw, o, c]);
  k.mods.conv.filter_swap_io(k.at(filter), k.at(out), kh * kw, c, o, a.flip ? 1 : 0);
  return out;
});

/**
 * The filter with its input/output channels swapped, [kh, kw, o, c], rotated 180° when
 * `flip` (the kernel of δ_in as a convolution). One pass where our modules run (tfjs's
 * Reverse took ~50 ms per 3x3x512x512 filter), else tf ops.
 */
export function swapFilterIo(filter: tf.Tensor4D, flip: boolean): tf.Tensor4D {
  const out = swapIoKernel.run({ filter }, { flip })?.[0];
  if (out) return out as tf.Tensor4D;
  return tf.tidy(() => tf.transpose(flip ? tf.reverse(filter, [0, 1]) : filter, [0, 1, 3, 2]));
}

/** conv(x, filter) with symmetric zero padding; null unless O % 8 == 0. */
export function simdConv2d(
  x: tf.Tensor4D,
  filter: tf.Tensor4D,
  stride: number,
  pad: number,
): tf.Tensor4D | null {
  if (filter.shape[3] % 8 !== 0) return null;
  const p = packFilter(filter, x.shape[1], x.shape[2], stride, pad, { flip: false, swap: false });
  const attrs = { stride, pad: p?.pad ?? pad, filterShape: p?.shape ?? filter.shape };
  return withPacked(p?.packed ?? null, (packed) => convKernel.run({ x, packed }, attrs)?.[0] as tf.Tensor4D);
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
  if (ci % 8 !== 0 || pad > kh - 1 || pad > kw - 1) return null;
  // See inputGradPlan: rotated for stride 1, not for the strided kernel.
  const p = packFilter(filter, xShape[1], xShape[2], stride, pad, { flip: stride === 1, swap: true });
  const attrs = { stride, pad: p?.pad ?? pad, filterShape: p?.shape ?? filter.shape, xShape };
  return withPacked(
    p?.packed ?? null,
    (packed) => inputGradKernel.run({ dy, packed }, attrs)?.[0] as tf.Tensor4D,
  );
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
  const [kh, kw, c, o] = filterShape;
  if (o % 8 !== 0 || !simdModules()) return null;
  const c4 = Math.ceil(c / 4) * 4;
  const xc =
    c4 === c
      ? x
      : tf.pad(x, [
          [0, 0],
          [0, 0],
          [0, 0],
          [0, c4 - c],
        ]);
  const dW = filterGradKernel.run({ x: xc, dy }, { filterShape: [kh, kw, c4, o], stride, pad })?.[0];
  if (xc !== x) xc.dispose();
  if (!dW || c4 === c) return (dW as tf.Tensor4D | undefined) ?? null;
  const kept = tf.slice(dW as tf.Tensor4D, [0, 0, 0, 0], filterShape);
  dW.dispose();
  return kept;
}
