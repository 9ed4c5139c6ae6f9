/**
 * WGSL programs of the fused training-mode BatchNorm (batch_norm.ts). Tensors are
 * viewed as rows × channels (channels last, rows = N·H·W); every program takes rank-1
 * views so that one compiled pipeline serves every layer.
 *
 * Per-channel reductions are split over rows: thread (s, c) reduces rows
 * [s·chunk, (s+1)·chunk) of channel c (consecutive threads read consecutive channels of
 * the same row: coalesced), then a short second pass combines the splits.
 */
import { ceilDiv, flatDispatch, type ProgramUniforms, type WebGPUProgram } from './program.js';

const WORKGROUP = 64;

/** How many row splits a per-channel reduction uses: ~16k threads, ≥ 8 rows each. */
export function channelSplits(rows: number, channels: number): { splits: number; chunk: number } {
  const wanted = Math.max(1, Math.min(ceilDiv(16384, channels), Math.floor(rows / 8)));
  const chunk = ceilDiv(rows, wanted);
  return { splits: ceilDiv(rows, chunk), chunk };
}

/** Uniforms shared by the split reductions, in the order of SPLIT_UNIFORMS. */
export function splitUniforms(rows: number, channels: number, epsilon: number): ProgramUniforms {
  const { splits, chunk } = channelSplits(rows, channels);
  return [
    { type: 'int32', data: [channels] },
    { type: 'int32', data: [rows] },
    { type: 'int32', data: [chunk] },
    { type: 'int32', data: [splits] },
    { type: 'float32', data: [epsilon] },
  ];
}

const SPLIT_UNIFORMS = 'channels : i32, rows : i32, chunk : i32, splits : i32, epsilon : f32,';

/** One thread per (split, channel); `body` sees c, s, r0, r1 and writes `result`. */
class ChannelSplitProgram implements WebGPUProgram {
  uniforms = SPLIT_UNIFORMS;
  outputShape: number[];
  dispatchLayout = { x: [0] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number] = [WORKGROUP, 1, 1];

  constructor(
    readonly shaderKey: string,
    readonly variableNames: string[],
    private readonly body: string,
    rows: number,
    channels: number,
    outPerSplit: number,
  ) {
    const { splits } = channelSplits(rows, channels);
    this.outputShape = [splits * outPerSplit * channels];
    this.dispatch = flatDispatch(splits * channels, WORKGROUP);
  }

  getUserCode(): string {
    return `
      fn main(index : i32) {
        let cs = uniforms.channels;
        if (index >= uniforms.splits * cs) {
          return;
        }
        let c = index % cs;
        let s = index / cs;
        let r0 = s * uniforms.chunk;
        let r1 = min(uniforms.rows, r0 + uniforms.chunk);
        ${this.body}
      }`;
  }
}

/** Per split and channel: Welford mean and M2 of x, at [(2s)·C + c] and [(2s+1)·C + c]. */
export function statsPartialsProgram(rows: number, channels: number): WebGPUProgram {
  const body = `
        var n = 0.0;
        var m = 0.0;
        var m2 = 0.0;
        for (var r = r0; r < r1; r = r + 1) {
          let v = x[r * cs + c];
          n = n + 1.0;
          let d = v - m;
          m = m + d / n;
          m2 = m2 + d * (v - m);
        }
        result[2 * s * cs + c] = m;
        result[(2 * s + 1) * cs + c] = m2;`;
  return new ChannelSplitProgram('wtrainBnStatsPartials', ['x'], body, rows, channels, 2);
}

/** Per split and channel: Σ dy at [s·C + c] and Σ dy·x̂ at [(S + s)·C + c]. */
export function gradPartialsProgram(rows: number, channels: number): WebGPUProgram {
  const body = `
        let mu = mean[c];
        let inv = inverseSqrt(variance[c] + uniforms.epsilon);
        var sb = 0.0;
        var sg = 0.0;
        for (var r = r0; r < r1; r = r + 1) {
          let g = dy[r * cs + c];
          sb = sb + g;
          sg = sg + g * ((x[r * cs + c] - mu) * inv);
        }
        result[s * cs + c] = sb;
        result[(uniforms.splits + s) * cs + c] = sg;`;
  return new ChannelSplitProgram(
    'wtrainBnGradPartials',
    ['dy', 'x', 'mean', 'variance'],
    body,
    rows,
    channels,
    2,
  );
}

/**
 * Chan's combination of the Welford partials: the mean (`which` 0) or the biased
 * variance (`which` 1) of each channel. Uniforms: SPLIT_UNIFORMS then `which`.
 */
export class StatsFinalizeProgram implements WebGPUProgram {
  variableNames = ['partials'];
  uniforms = `${SPLIT_UNIFORMS} which : i32,`;
  outputShape: number[];
  shaderKey = 'wtrainBnStatsFinalize';
  dispatchLayout = { x: [0] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number] = [WORKGROUP, 1, 1];

  constructor(channels: number) {
    this.outputShape = [channels];
    this.dispatch = flatDispatch(channels, WORKGROUP);
  }

  getUserCode(): string {
    return `
      fn main(index : i32) {
        let cs = uniforms.channels;
        if (index >= cs) {
          return;
        }
        var n = 0.0;
        var m = 0.0;
        var m2 = 0.0;
        for (var s = 0; s < uniforms.splits; s = s + 1) {
          let nb = f32(min(uniforms.chunk, uniforms.rows - s * uniforms.chunk));
          let mb = partials[2 * s * cs + index];
          let m2b = partials[(2 * s + 1) * cs + index];
          let nt = n + nb;
          let d = mb - m;
          m = m + d * (nb / nt);
          m2 = m2 + m2b + d * d * (n * nb / nt);
          n = nt;
        }
        result[index] = select(m2 / n, m, uniforms.which == 0);
      }`;
  }
}

/** An elementwise program over rows × channels with per-channel vectors; `expr` is the value at `index`. */
export class ChannelwiseProgram implements WebGPUProgram {
  uniforms = 'channels : i32, epsilon : f32, count : f32,';
  outputShape: number[];
  dispatchLayout = { x: [0] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number] = [WORKGROUP * 4, 1, 1];
  size = true;

  constructor(
    readonly shaderKey: string,
    readonly variableNames: string[],
    private readonly expr: string,
    elements: number,
  ) {
    this.outputShape = [elements];
    this.dispatch = flatDispatch(elements, WORKGROUP * 4);
  }

  getUserCode(): string {
    return `
      fn main(index : i32) {
        if (index < uniforms.size) {
          let c = index % uniforms.channels;
          let inv = inverseSqrt(variance[c] + uniforms.epsilon);
          result[index] = ${this.expr};
        }
      }`;
  }
}

/** y = (x − μ)·σ⁻¹·γ + β */
export const normalizeProgram = (elements: number) =>
  new ChannelwiseProgram(
    'wtrainBnNormalize',
    ['x', 'mean', 'variance', 'gamma', 'beta'],
    '((x[index] - mean[c]) * inv) * gamma[c] + beta[c]',
    elements,
  );

/** dx = k·dy − x̂·(k·dγ/M) − k·dβ/M with k = γ·σ⁻¹ (the exact BatchNorm backward). */
export const inputGradProgram = (elements: number) =>
  new ChannelwiseProgram(
    'wtrainBnInputGrad',
    ['dy', 'x', 'mean', 'variance', 'gamma', 'dBeta', 'dGamma'],
    `dy[index] * (gamma[c] * inv)
            - ((x[index] - mean[c]) * inv) * (gamma[c] * inv * dGamma[c] / uniforms.count)
            - gamma[c] * inv * dBeta[c] / uniforms.count`,
    elements,
  );
