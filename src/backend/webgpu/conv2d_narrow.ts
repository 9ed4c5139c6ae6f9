/**
 * 2-D convolution for narrow layers (fewer than 32 output channels) on WebGPU, as an
 * implicit GEMM with tiles as narrow as the layer:
 *
 *   y[m, d] = Σ_k patch(m, k) · F(k, d),  m = (n, oy, ox), k = (fy, fx, c)
 *
 * tfjs's Conv2DMMProgram and Conv2DDerInputMMProgram tile the output 32 channels wide,
 * so on a 16-channel layer (ResNet-20's first stage, a third of its FLOPs) half of
 * every tile is padding. Here a workgroup computes a TM×TC tile (TC = 8 or 16), staging
 * the im2col patch (read straight from x, never materialised) and the filter in
 * workgroup memory, TK taps of k per stage. Threads load the patch along k (neighbouring
 * channels of x: coalesced) and store it k-major in rows of TM + 2 words (2 mod 32), so
 * the 32 stores of a warp (16 taps × 2 rows) fall in 32 different banks and the reads
 * along m are contiguous.
 *
 * `transposed` computes dx of a stride-1 convolution, which is the convolution of dy
 * with the filter flipped in space and with its channel axes swapped (eq. 3's B δ for a
 * conv layer): F(fy, fx, c, d) = W[kh−1−fy, kw−1−fx, d, c], padding kh−1−pad.
 *
 * Not the default until measured on a GPU (`narrowConv` in WebgpuTuning; bench-gpu
 * compares it). Layers it does not cover go to tfjs's kernels.
 */
import * as tf from '@tensorflow/tfjs-core';
import { type Conv2dFn, convOutSize } from '../ops/conv2d.js';
import type { Conv2dInputGradFn } from '../ops/conv2d_input_grad.js';
import { webgpuConv2dInputGrad } from './conv2d_input_grad.js';
import {
  ceilDiv,
  type KernelArgs,
  type ProgramUniforms,
  rank1,
  registerWebgpuKernel,
  type WebGPUProgram,
} from './program.js';
import {
  PATCH_FNS,
  PATCH_UNIFORMS,
  patchUniforms,
  type RegisterTile,
  stagedLoad,
  storeTile,
  THREAD_IDS,
  tileFma,
  tileRegisters,
  workgroupTiles,
} from './register_tile.js';

export const NARROW_CONV_KERNEL = 'WtrainConv2DNarrow';

/** Output channels below this go to the narrow kernel. */
export const NARROW_BELOW = 32;

/** Workgroup wx×wy threads; each owns tr rows (m) × tc columns (d); tk taps of k per stage. */
interface NarrowTile extends RegisterTile {
  tk: number;
}

const pickTile = (d: number): NarrowTile =>
  d <= 8 ? { wx: 2, wy: 32, tr: 2, tc: 4, tk: 16 } : { wx: 4, wy: 16, tr: 4, tc: 4, tk: 16 };

class Conv2dNarrowProgram implements WebGPUProgram {
  variableNames = ['x', 'weights'];
  uniforms = `${PATCH_UNIFORMS} kh : i32, kDim : i32, mDim : i32,`;
  outputShape: number[];
  shaderKey: string;
  dispatchLayout = { x: [0], y: [1], z: [2] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number];

  constructor(
    private readonly t: NarrowTile,
    private readonly transposed: boolean,
    mDim: number,
    d: number,
  ) {
    this.outputShape = [mDim * d];
    this.workgroupSize = [t.wx, t.wy, 1];
    const cols = ceilDiv(d, t.wx * t.tc);
    const rows = ceilDiv(mDim, t.wy * t.tr);
    // [x, 1, 1] counts as a flat dispatch in tfjs's shader key (a second compile of the
    // same shader): at least 2 rows, an idle one if need be.
    this.dispatch = [cols, Math.max(2, rows), 1];
    this.shaderKey = `wtrainConv2dNarrow_${t.wx}_${t.wy}_${t.tr}_${t.tc}_${t.tk}_${transposed}`;
  }

  getUserCode(): string {
    const { wx, wy, tr, tc, tk } = this.t;
    const tm = wy * tr;
    const tcols = wx * tc;
    const threads = wx * wy;
    // F(k, d): the filter tap for patch column k = (fy, fx, c) and output channel d.
    const filterAt = this.transposed
      ? `let t = convTap(k);
              v = weights[(((uniforms.kh - 1 - t.x) * uniforms.kw + (uniforms.kw - 1 - t.y)) * d + od) * c + t.z];`
      : 'v = weights[k * d + od];';
    const loadPatch = stagedLoad(
      tm * tk,
      threads,
      tk,
      'mm',
      'kk',
      `let m = m0 + mm;
            let k = k0 + kk;
            var v = 0.0;
            if (m < mDim && k < kDim) {
              v = patchAt(m, convTap(k));
            }
            tileA[kk * ${tm + 2} + mm] = v;`,
    );
    const loadFilter = stagedLoad(
      tk * tcols,
      threads,
      tcols,
      'kk',
      'dd',
      `let k = k0 + kk;
            let od = d0 + dd;
            var v = 0.0;
            if (k < kDim && od < d) {
              ${filterAt}
            }
            tileB[kk * ${tcols} + dd] = v;`,
    );
    return `
      ${workgroupTiles(tk * (tm + 2), tk * tcols)}
      ${PATCH_FNS}

      fn main() {
        ${THREAD_IDS}
        let c = uniforms.xDims.w;
        let d = uniforms.yDims.w;
        let kDim = uniforms.kDim;
        let mDim = uniforms.mDim;
        let m0 = i32(workgroupId.y) * ${tm};
        let d0 = i32(workgroupId.x) * ${tcols};

        ${tileRegisters(this.t)}
        for (var k0 = 0; k0 < kDim; k0 = k0 + ${tk}) {
          ${loadPatch}
          ${loadFilter}
          workgroupBarrier();
          ${tileFma(
            this.t,
            tk,
            (kk, row) => `${kk} * ${tm + 2} + ${row}`,
            (kk, col) => `${kk} * ${tcols} + ${col}`,
          )}
          workgroupBarrier();
        }
        ${storeTile(this.t, { row0: 'm0', col0: 'd0', rows: 'mDim', cols: 'd', base: '0' })}
      }`;
  }
}

interface NarrowAttrs {
  outShape: [number, number, number, number];
  kh: number;
  kw: number;
  stride: number;
  pad: number;
  transposed: boolean;
}

function conv2dNarrowKernel({ inputs, backend, attrs }: KernelArgs<'x' | 'w', NarrowAttrs>): tf.TensorInfo {
  const { x, w } = inputs;
  const { outShape, kh, kw, stride, pad, transposed } = attrs;
  if (x.dtype !== 'float32' || w.dtype !== 'float32') throw new Error('conv2dNarrow: float32 only');
  const [n, ho, wo, d] = outShape;
  const mDim = n * ho * wo;
  const kDim = kh * kw * x.shape[3];
  const program = new Conv2dNarrowProgram(pickTile(d), transposed, mDim, d);
  const uniforms: ProgramUniforms = [
    ...patchUniforms(x.shape, outShape, pad, stride, kw),
    { type: 'int32', data: [kh] },
    { type: 'int32', data: [kDim] },
    { type: 'int32', data: [mDim] },
  ];
  // Rank-1 views: few compiled pipelines per tile shape, whatever the layer's shape.
  const out = backend.runWebGPUProgram(program, [rank1(x), rank1(w)], 'float32', uniforms);
  return { ...out, shape: [...outShape] };
}

export function registerConv2dNarrowKernel(): void {
  registerWebgpuKernel(NARROW_CONV_KERNEL, conv2dNarrowKernel);
}

/** Fits the kernel: narrow output, and the grid's rows within WebGPU's 65,535 per dimension. */
const fits = (mDim: number, d: number) =>
  d < NARROW_BELOW && ceilDiv(mDim, pickTile(d).wy * pickTile(d).tr) <= 65535;

type Shape4 = readonly number[];

/** The output shape of conv2d(x, filter) (NHWC, HWIO, symmetric padding). */
const outShapeOf = (xShape: Shape4, filterShape: Shape4, stride: number, pad: number) =>
  [
    xShape[0],
    convOutSize(xShape[1], filterShape[0], stride, pad),
    convOutSize(xShape[2], filterShape[1], stride, pad),
    filterShape[3],
  ] as [number, number, number, number];

/** Whether `conv2d` of x with this filter runs on the narrow kernel. */
export function narrowForward(xShape: Shape4, filterShape: Shape4, stride: number, pad: number): boolean {
  const [n, ho, wo, d] = outShapeOf(xShape, filterShape, stride, pad);
  return xShape[3] === filterShape[2] && ho > 0 && wo > 0 && fits(n * ho * wo, d);
}

/** Whether `conv2dInputGrad` for an input of `xShape` runs on the narrow kernel (stride 1, square filter). */
export function narrowInputGrad(xShape: Shape4, filterShape: Shape4, stride: number, pad: number): boolean {
  const [n, h, w, c] = xShape;
  const [kh, kw, ci] = filterShape;
  return stride === 1 && kh === kw && pad <= kh - 1 && c === ci && fits(n * h * w, c);
}

const runNarrow = (x: tf.Tensor4D, w: tf.Tensor4D, attrs: NarrowAttrs): tf.Tensor4D =>
  tf.engine().runKernel(NARROW_CONV_KERNEL, { x, w }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor4D;

/** The `conv2d` op on webgpu: narrow layers here, the rest through tf.conv2d. */
export const webgpuNarrowConv2d: Conv2dFn = (x, filter, stride, pad) => {
  if (x.dtype !== 'float32' || !narrowForward(x.shape, filter.shape, stride, pad)) {
    return tf.conv2d(x, filter, stride, pad);
  }
  const [kh, kw] = filter.shape;
  const outShape = outShapeOf(x.shape, filter.shape, stride, pad);
  return runNarrow(x, filter, { outShape, kh, kw, stride, pad, transposed: false });
};

/** The `conv2dInputGrad` op on webgpu: stride-1 layers with a narrow input here, the rest through tfjs. */
export const webgpuNarrowConv2dInputGrad: Conv2dInputGradFn = (dy, filter, xShape, stride, pad) => {
  const [kh, kw] = filter.shape;
  if (dy.dtype !== 'float32' || !narrowInputGrad(xShape, filter.shape, stride, pad)) {
    return webgpuConv2dInputGrad(dy, filter, xShape, stride, pad);
  }
  return runNarrow(dy, filter, { outShape: xShape, kh, kw, stride: 1, pad: kh - 1 - pad, transposed: true });
};
