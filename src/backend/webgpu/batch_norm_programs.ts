/**
 * WGSL programs of the fused training-mode BatchNorm (batch_norm.ts). Tensors are
 * viewed as rows × channels (channels last, rows = N·H·W); every program takes rank-1
 * views so that one compiled pipeline serves every layer.
 *
 * Per-channel reductions are split over rows: thread (s, c) reduces rows
 * [s·chunk, (s+1)·chunk) of channel c (consecutive threads read consecutive channels of
 * the same row: coalesced), then a short second pass combines the splits.
 */
import { ElementwiseProgram } from './elementwise.js';
import { ceilDiv, flatDispatch, type ProgramUniforms, type WebGPUProgram } from './program.js';
import { type RawBufferDecl, rawShaderHeader } from './raw_dispatch.js';

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

/** x, or ReLU(x) when the BatchNorm takes a ReLU's input (the fused after_relu unit). */
const input = (relu: boolean, at: string) => (relu ? `max(x[${at}], 0.0)` : `x[${at}]`);
const reluKey = (relu: boolean) => (relu ? 'Relu' : '');

/** Per split and channel: Welford mean and M2 of x, at [(2s)·C + c] and [(2s+1)·C + c]. */
export function statsPartialsProgram(rows: number, channels: number, relu = false): WebGPUProgram {
  const body = `
        var n = 0.0;
        var m = 0.0;
        var m2 = 0.0;
        for (var r = r0; r < r1; r = r + 1) {
          let v = ${input(relu, 'r * cs + c')};
          n = n + 1.0;
          let d = v - m;
          m = m + d / n;
          m2 = m2 + d * (v - m);
        }
        result[2 * s * cs + c] = m;
        result[(2 * s + 1) * cs + c] = m2;`;
  return new ChannelSplitProgram(`wtrainBnStatsPartials${reluKey(relu)}`, ['x'], body, rows, channels, 2);
}

/** Per split and channel: Σ dy at [s·C + c] and Σ dy·x̂ at [(S + s)·C + c]. */
export function gradPartialsProgram(rows: number, channels: number, relu = false): WebGPUProgram {
  const body = `
        let mu = mean[c];
        let inv = inverseSqrt(variance[c] + uniforms.epsilon);
        var sb = 0.0;
        var sg = 0.0;
        for (var r = r0; r < r1; r = r + 1) {
          let g = dy[r * cs + c];
          sb = sb + g;
          sg = sg + g * ((${input(relu, 'r * cs + c')} - mu) * inv);
        }
        result[s * cs + c] = sb;
        result[(uniforms.splits + s) * cs + c] = sg;`;
  return new ChannelSplitProgram(
    `wtrainBnGradPartials${reluKey(relu)}`,
    ['dy', 'x', 'mean', 'variance'],
    body,
    rows,
    channels,
    2,
  );
}

const RAW_WORKGROUP = 64;

/**
 * Raw WGSL (raw_dispatch.ts) for Chan's combination of the Welford partials into the
 * mean and biased variance of each channel, both written in one dispatch. With
 * `running`, also the running statistics in place, rounded as updateRunningStats' tf ops:
 * r ← r·keep + (v·scale)·take (scale 1 for the mean, M/(M−1) for the variance).
 * Bindings: partials, mean, variance, [running mean, running variance], uniforms.
 */
export const statsFinalizeShader = (running: boolean): string => FINALIZE_SHADERS[running ? 1 : 0];

/** A raw pass with one thread per channel c < u.channels (cs = u.channels). */
const perChannelShader = (
  buffers: RawBufferDecl[],
  uniforms: string,
  body: string,
): string => `${rawShaderHeader(buffers, uniforms)}
@compute @workgroup_size(${RAW_WORKGROUP})
fn main(@builtin(global_invocation_id) gid : vec3<u32>) {
  let c = i32(gid.x);
  let cs = u.channels;
  if (c >= cs) {
    return;
  }
  ${body}
}`;

function buildFinalizeShader(running: boolean): string {
  const runningBuffers = running
    ? [
        { name: 'runMean', write: true },
        { name: 'runVar', write: true },
      ]
    : [];
  const runningUpdate = running
    ? `runMean[c] = runMean[c] * u.keep + mu * u.take;
  runVar[c] = runVar[c] * u.keep + (sigma2 * u.scale) * u.take;`
    : '';
  return perChannelShader(
    [
      { name: 'partials' },
      { name: 'mean', write: true },
      { name: 'variance', write: true },
      ...runningBuffers,
    ],
    'channels : i32, rows : i32, chunk : i32, splits : i32, keep : f32, take : f32, scale : f32,',
    `var n = 0.0;
  var m = 0.0;
  var m2 = 0.0;
  for (var s = 0; s < u.splits; s = s + 1) {
    let nb = f32(min(u.chunk, u.rows - s * u.chunk));
    let mb = partials[2 * s * cs + c];
    let m2b = partials[(2 * s + 1) * cs + c];
    let nt = n + nb;
    let d = mb - m;
    m = m + d * (nb / nt);
    m2 = m2 + m2b + d * d * (n * nb / nt);
    n = nt;
  }
  let mu = m;
  let sigma2 = m2 / n;
  mean[c] = mu;
  variance[c] = sigma2;
  ${runningUpdate}`,
  );
}

const FINALIZE_SHADERS = [buildFinalizeShader(false), buildFinalizeShader(true)];

/**
 * Raw WGSL for the second pass of the gradient partials: dβ[c] = Σ_s partials[s·C + c]
 * and dγ[c] = Σ_s partials[(S + s)·C + c] in one dispatch (summed in sum_rows.ts's
 * order). Bindings: partials, dBeta, dGamma, uniforms.
 */
export const GRAD_SUMS_SHADER = perChannelShader(
  [{ name: 'partials' }, { name: 'dBeta', write: true }, { name: 'dGamma', write: true }],
  'channels : i32, splits : i32,',
  `var sb = 0.0;
  var sg = 0.0;
  for (var s = 0; s < u.splits; s = s + 1) {
    sb = sb + partials[s * cs + c];
    sg = sg + partials[(u.splits + s) * cs + c];
  }
  dBeta[c] = sb;
  dGamma[c] = sg;`,
);

/** Workgroups of the per-channel raw passes. */
export const channelWorkgroups = (channels: number): number => ceilDiv(channels, RAW_WORKGROUP);

/**
 * An element-wise pass over rows × channels that sees c (the channel) and inv =
 * 1/√(σ² + ε); uniforms: channels, epsilon, count (rows), as channelwiseUniforms gives.
 */
const channelwiseProgram = (shaderKey: string, variableNames: string[], expr: string, elements: number) =>
  new ElementwiseProgram(
    shaderKey,
    variableNames,
    expr,
    elements,
    'channels : i32, epsilon : f32, count : f32,',
    `let c = index % uniforms.channels;
          let inv = inverseSqrt(variance[c] + uniforms.epsilon);`,
  );

/** The uniforms of normalizeProgram and inputGradProgram. */
export function channelwiseUniforms(channels: number, epsilon: number, rows: number): ProgramUniforms {
  return [
    { type: 'int32', data: [channels] },
    { type: 'float32', data: [epsilon] },
    { type: 'float32', data: [rows] },
  ];
}

/** y = (x − μ)·σ⁻¹·γ + β (x through a ReLU first with `relu`) */
export const normalizeProgram = (elements: number, relu = false) =>
  channelwiseProgram(
    `wtrainBnNormalize${reluKey(relu)}`,
    ['x', 'mean', 'variance', 'gamma', 'beta'],
    `((${input(relu, 'index')} - mean[c]) * inv) * gamma[c] + beta[c]`,
    elements,
  );

/**
 * dx = k·dy − x̂·(k·dγ/M) − k·dβ/M with k = γ·σ⁻¹ (the exact BatchNorm backward); with
 * `relu`, x is the ReLU's input and dx goes on through the ReLU: 0 where x ≤ 0.
 */
export const inputGradProgram = (elements: number, relu = false) => {
  const dx = `dy[index] * (gamma[c] * inv)
            - ((${input(relu, 'index')} - mean[c]) * inv) * (gamma[c] * inv * dGamma[c] / uniforms.count)
            - gamma[c] * inv * dBeta[c] / uniforms.count`;
  return channelwiseProgram(
    `wtrainBnInputGrad${reluKey(relu)}`,
    ['dy', 'x', 'mean', 'variance', 'gamma', 'dBeta', 'dGamma'],
    relu ? `select(0.0, ${dx}, x[index] > 0.0)` : dx,
    elements,
  );
};
