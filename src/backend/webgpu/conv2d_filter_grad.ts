/**
 * dW of a 2-D convolution on WebGPU as an implicit-GEMM with split-K:
 *
 *   dW[k, co] = Σ_m patch(m, k) · dy[m, co],  k = (fy, fx, ci), m = (n, oy, ox)
 *
 * tfjs's stock Conv2DBackpropFilter runs one thread per filter element looping over
 * all N·Ho·Wo positions (~98 % of a ResNet training step on an H100). Here each
 * workgroup computes a TK×TC tile of dW over one chunk of m, staging the im2col patch
 * (read straight from x, never materialised) and dy in workgroup memory; the chunks'
 * partial tiles are then summed by a second dispatch (sum_rows.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Conv2dFilterGradFn, FilterShape } from '../ops/conv2d_filter_grad.js';
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
  storeTile,
  THREAD_IDS,
  tileFma,
  tileRegisters,
  workgroupTiles,
} from './register_tile.js';
import { sumRows } from './sum_rows.js';

export const FILTER_GRAD_KERNEL = 'WtrainConv2DBackpropFilter';

/** Workgroup of wx×wy threads; each thread owns tr rows (k) × tc columns (co); tm rows of m per stage. */
export interface FilterGradTile extends RegisterTile {
  tm: number;
}

/** Tile shape by output channels: narrow layers get narrow tiles so little work is padding. */
export function pickFilterGradTile(outChannels: number): FilterGradTile {
  if (outChannels >= 128) return { wx: 16, wy: 16, tr: 8, tc: 8, tm: 8 };
  if (outChannels >= 64) return { wx: 8, wy: 16, tr: 8, tc: 8, tm: 8 };
  if (outChannels >= 32) return { wx: 4, wy: 32, tr: 4, tc: 8, tm: 8 };
  return { wx: 4, wy: 16, tr: 4, tc: 4, tm: 16 };
}

let targetWorkgroups = 1024;

/** How many workgroups the split-K aims for (enough to fill a large GPU); for tuning. */
export function setFilterGradTargetWorkgroups(n: number): void {
  targetWorkgroups = Math.max(1, Math.floor(n));
}

/** Number of m-chunks (each a multiple of tm rows, ≥ 16 stages long) and their length. */
export function splitK(m: number, tiles: number, tm: number): { splits: number; chunk: number } {
  const maxSplits = Math.min(65535, Math.max(1, Math.floor(m / (16 * tm))));
  const wanted = Math.min(maxSplits, Math.max(1, ceilDiv(targetWorkgroups, tiles)));
  const chunk = Math.max(tm, ceilDiv(ceilDiv(m, wanted), tm) * tm);
  return { splits: Math.max(1, ceilDiv(m, chunk)), chunk };
}

class Conv2dFilterGradProgram implements WebGPUProgram {
  variableNames = ['x', 'dy'];
  uniforms = `${PATCH_UNIFORMS} kDim : i32, mDim : i32, chunk : i32, numSteps : i32,`;
  outputShape: number[];
  shaderKey: string;
  dispatchLayout = { x: [0], y: [1], z: [2] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number];
  private readonly t: FilterGradTile;

  constructor(t: FilterGradTile, kDim: number, outChannels: number, splits: number, outShape: number[]) {
    const tk = t.wy * t.tr;
    const tcols = t.wx * t.tc;
    const threads = t.wx * t.wy;
    if (threads % tk !== 0 || threads % tcols !== 0 || (t.tm * tk) % threads || (t.tm * tcols) % threads) {
      throw new Error(`conv2dFilterGrad: invalid tile ${JSON.stringify(t)}`);
    }
    this.t = t;
    this.outputShape = outShape;
    this.workgroupSize = [t.wx, t.wy, 1];
    // A [1, 1, 1] dispatch would change tfjs's shader key (flat dispatch) and cost a
    // second compile of the same shader: one idle extra row of tiles avoids that.
    const kTiles = ceilDiv(kDim, tk);
    const flat = kTiles === 1 && splits === 1;
    this.dispatch = [ceilDiv(outChannels, tcols), flat ? 2 : kTiles, splits];
    this.shaderKey = `wtrainConv2dFilterGrad_${t.wx}_${t.wy}_${t.tr}_${t.tc}_${t.tm}`;
  }

  getUserCode(): string {
    const { wx, wy, tr, tc, tm } = this.t;
    const tk = wy * tr;
    const tcols = wx * tc;
    const threads = wx * wy;
    const loadA = `for (var j = 0; j < ${(tm * tk) / threads}; j = j + 1) {
          let mm = mA + j * ${threads / tk};
          let m = m0 + mm;
          var v = 0.0;
          if (kValid && m < mEnd) {
            v = patchAt(m, tap);
          }
          tileA[mm * ${tk} + kCol] = v;
        }`;
    const loadB = `for (var j = 0; j < ${(tm * tcols) / threads}; j = j + 1) {
          let mm = mB + j * ${threads / tcols};
          let m = m0 + mm;
          var v = 0.0;
          if (cValid && m < mEnd) {
            v = dy[m * d + cB];
          }
          tileB[mm * ${tcols} + cCol] = v;
        }`;
    return `
      ${workgroupTiles(tm * tk, tm * tcols)}
      ${PATCH_FNS}

      fn main() {
        ${THREAD_IDS}
        let d = uniforms.yDims.w;
        let kDim = uniforms.kDim;
        let k0 = i32(workgroupId.y) * ${tk};
        let c0 = i32(workgroupId.x) * ${tcols};
        let mStart = i32(workgroupId.z) * uniforms.chunk;
        let mEnd = min(uniforms.mDim, mStart + uniforms.chunk);

        // This thread's fixed column of the patch tile: filter tap (fy, fx, c).
        let kCol = li % ${tk};
        let kA = k0 + kCol;
        let kValid = kA < kDim;
        let tap = convTap(kA);
        let mA = li / ${tk};
        // This thread's fixed column of the dy tile.
        let cCol = li % ${tcols};
        let cB = c0 + cCol;
        let cValid = cB < d;
        let mB = li / ${tcols};

        ${tileRegisters(this.t)}
        for (var step = 0; step < uniforms.numSteps; step = step + 1) {
          let m0 = mStart + step * ${tm};
          ${loadA}
          ${loadB}
          workgroupBarrier();
          ${tileFma(
            this.t,
            tm,
            (mm, row) => `${mm} * ${tk} + ${row}`,
            (mm, col) => `${mm} * ${tcols} + ${col}`,
          )}
          workgroupBarrier();
        }
        let outBase = i32(workgroupId.z) * kDim * d;
        ${storeTile(this.t, { row0: 'k0', col0: 'c0', rows: 'kDim', cols: 'd', base: 'outBase' })}
      }`;
  }
}

interface FilterGradAttrs {
  filterShape: FilterShape;
  stride: number;
  pad: number;
}

function conv2dFilterGradKernel({
  inputs,
  backend,
  attrs,
}: KernelArgs<'x' | 'dy', FilterGradAttrs>): tf.TensorInfo {
  const { x, dy } = inputs;
  const { filterShape, stride, pad } = attrs;
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filterShape,
    [stride, stride],
    1,
    pad,
    undefined,
    false,
    'channelsLast',
  );
  const expected = [info.batchSize, info.outHeight, info.outWidth, info.outChannels];
  if (!tf.util.arraysEqual(dy.shape, expected)) {
    throw new Error(`conv2dFilterGrad: dy shape [${dy.shape}] does not match [${expected}]`);
  }
  if (x.dtype !== 'float32' || dy.dtype !== 'float32') throw new Error('conv2dFilterGrad: float32 only');
  const [kh, kw, ci, co] = filterShape;
  const kDim = kh * kw * ci;
  const mDim = info.batchSize * info.outHeight * info.outWidth;
  const tile = pickFilterGradTile(co);
  const tiles = ceilDiv(kDim, tile.wy * tile.tr) * ceilDiv(co, tile.wx * tile.tc);
  const { splits, chunk } = splitK(mDim, tiles, tile.tm);
  const program = new Conv2dFilterGradProgram(tile, kDim, co, splits, [splits * kDim * co]);
  const uniforms: ProgramUniforms = [
    ...patchUniforms(x.shape, dy.shape, pad, stride, kw),
    { type: 'int32', data: [kDim] },
    { type: 'int32', data: [mDim] },
    { type: 'int32', data: [chunk] },
    { type: 'int32', data: [ceilDiv(chunk, tile.tm)] },
  ];
  // Rank-1 views: one compiled pipeline per tile shape, whatever the layer's shape.
  const partials = backend.runWebGPUProgram(program, [rank1(x), rank1(dy)], 'float32', uniforms);
  if (splits === 1) return { ...partials, shape: [...filterShape] };
  const out = sumRows(backend, partials, splits, [...filterShape]);
  backend.disposeData(partials.dataId);
  return out;
}

export function registerConv2dFilterGradKernel(): void {
  registerWebgpuKernel(FILTER_GRAD_KERNEL, conv2dFilterGradKernel);
}

/** The `conv2dFilterGrad` op for the webgpu backend (same contract as tfjs's Conv2DBackpropFilter). */
export const webgpuConv2dFilterGrad: Conv2dFilterGradFn = (x, dy, filterShape, stride, pad) =>
  tf.engine().runKernel(FILTER_GRAD_KERNEL, { x, dy }, {
    filterShape,
    stride,
    pad,
  } as unknown as tf.NamedAttrMap) as tf.Tensor4D;
