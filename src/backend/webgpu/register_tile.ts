/**
 * WGSL pieces shared by the register-tiled GEMM kernels (conv2d_filter_grad.ts,
 * conv2d_narrow.ts): a workgroup of wx×wy threads computes a (wy·tr)×(wx·tc) tile of
 * the output; thread (lx, ly) owns rows ly + i·wy (i < tr) and columns lx + j·wx
 * (j < tc), so neighbouring threads read neighbouring columns of workgroup memory.
 */
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

/**
 * A convolution's sizes from the uniforms `xDims` (its input, NHWC) and `yDims` (its
 * output): h, w, c of the input; wo, hoWo, d of the output.
 */
export const CONV_SIZES = `let h = uniforms.xDims.y;
        let w = uniforms.xDims.z;
        let c = uniforms.xDims.w;
        let wo = uniforms.yDims.z;
        let hoWo = uniforms.yDims.y * wo;
        let d = uniforms.yDims.w;`;
