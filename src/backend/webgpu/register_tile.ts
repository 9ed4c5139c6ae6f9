/**
 * WGSL pieces of an implicit-GEMM conv kernel (conv2d_filter_grad.ts; the retired
 * narrow-layer conv kernel shared them, docs/gpu.md "Retired alternatives"):
 * - register tiles: a workgroup of wx×wy threads computes a (wy·tr)×(wx·tc) tile of
 *   the output; thread (lx, ly) owns rows ly + i·wy (i < tr) and columns lx + j·wx
 *   (j < tc), so neighbouring threads read neighbouring columns of workgroup memory;
 * - the im2col patch of x read in place (`PATCH_FNS`, with its uniforms).
 */
import type { ProgramUniforms } from './program.js';

export interface RegisterTile {
  wx: number;
  wy: number;
  tr: number;
  tc: number;
}

/** The thread's coordinates: lx, ly in the workgroup, li its flat index. */
export const THREAD_IDS = `let lx = i32(localId.x);
        let ly = i32(localId.y);
        let li = i32(localIndex);`;

/** The accumulators (tr×tc) and the a/b registers one step loads. */
export const tileRegisters = ({ tr, tc }: RegisterTile): string => `var acc : array<f32, ${tr * tc}>;
        var a : array<f32, ${tr}>;
        var b : array<f32, ${tc}>;`;

/**
 * acc += a ⊗ b over `depth` staged steps `s`: a[i] = tileA[aAt(s, row i)],
 * b[j] = tileB[bAt(s, column j)].
 */
export function tileFma(
  { wx, wy, tr, tc }: RegisterTile,
  depth: number,
  aAt: (s: string, row: string) => string,
  bAt: (s: string, col: string) => string,
): string {
  return `for (var s = 0; s < ${depth}; s = s + 1) {
            for (var i = 0; i < ${tr}; i = i + 1) {
              a[i] = tileA[${aAt('s', `ly + i * ${wy}`)}];
            }
            for (var j = 0; j < ${tc}; j = j + 1) {
              b[j] = tileB[${bAt('s', `lx + j * ${wx}`)}];
            }
            for (var i = 0; i < ${tr}; i = i + 1) {
              for (var j = 0; j < ${tc}; j = j + 1) {
                acc[i * ${tc} + j] = fma(a[i], b[j], acc[i * ${tc} + j]);
              }
            }
          }`;
}

/**
 * Write the thread's accumulators to result[base + row·cols + col], rows from `row0`,
 * columns from `col0`, inside rows × cols (WGSL expressions).
 */
export function storeTile(
  { wx, wy, tr, tc }: RegisterTile,
  o: { row0: string; col0: string; rows: string; cols: string; base: string },
): string {
  return `for (var i = 0; i < ${tr}; i = i + 1) {
          let row = ${o.row0} + ly + i * ${wy};
          for (var j = 0; j < ${tc}; j = j + 1) {
            let col = ${o.col0} + lx + j * ${wx};
            if (row < ${o.rows} && col < ${o.cols}) {
              result[${o.base} + row * ${o.cols} + col] = acc[i * ${tc} + j];
            }
          }
        }`;
}

/** The two staged tiles in workgroup memory. */
export const workgroupTiles = (
  aSize: number,
  bSize: number,
): string => `var<workgroup> tileA : array<f32, ${aSize}>;
      var<workgroup> tileB : array<f32, ${bSize}>;`;

/** The uniforms PATCH_FNS reads; a conv kernel's uniform struct starts with them. */
export const PATCH_UNIFORMS = 'xDims : vec4<i32>, yDims : vec4<i32>, pad : i32, stride : i32, kw : i32,';

/** Values of PATCH_UNIFORMS, in order: x's and the conv output's NHWC shapes, padding, stride, filter width. */
export const patchUniforms = (
  xShape: number[],
  yShape: number[],
  pad: number,
  stride: number,
  kw: number,
): ProgramUniforms =>
  [[...xShape], [...yShape], [pad], [stride], [kw]].map((data) => ({ type: 'int32' as const, data }));

/**
 * WGSL functions of an implicit-GEMM convolution of the storage array x (NHWC, sizes in
 * the uniform xDims) giving an output of sizes yDims, with the uniforms kw, stride and
 * pad: `convTap(k)` splits a patch column k = (fy·kw + fx)·C + c into (fy, fx, c);
 * `patchAt(m, tap)` is the patch value at output position m = (n, oy, ox), 0 in the
 * padding.
 */
export const PATCH_FNS = `
      fn convTap(k : i32) -> vec3<i32> {
        let c = uniforms.xDims.w;
        let kwC = uniforms.kw * c;
        let fy = k / kwC;
        let r = k - fy * kwC;
        let fx = r / c;
        return vec3<i32>(fy, fx, r - fx * c);
      }

      fn patchAt(m : i32, tap : vec3<i32>) -> f32 {
        let h = uniforms.xDims.y;
        let w = uniforms.xDims.z;
        let wo = uniforms.yDims.z;
        let hoWo = uniforms.yDims.y * wo;
        let n = m / hoWo;
        let rest = m - n * hoWo;
        let oy = rest / wo;
        let iy = oy * uniforms.stride + tap.x - uniforms.pad;
        let ix = (rest - oy * wo) * uniforms.stride + tap.y - uniforms.pad;
        if (iy >= 0 && iy < h && ix >= 0 && ix < w) {
          return x[((n * h + iy) * w + ix) * uniforms.xDims.w + tap.z];
        }
        return 0.0;
      }`;
