/** The benchmark's results as markdown (for the README) and JSON. */

import { f0, f1, pct, table } from '../stats.js';
import { imagenetMarkdown, isImagenetRow, profileMarkdown } from './report-imagenet.js';
import type { BenchResults } from './results.js';
import type { StepRow } from './steps.js';

function stepTable(r: BenchResults): string {
  const torch = (net: string, rule: string, p: string) =>
    r.torch.rows.find((t) => t.net === net && t.rule === rule && t.precision === p);
  const rows = r.steps.map((s) => {
    const t32 = torch(s.net, s.rule, 'tf32');
    const f32 = torch(s.net, s.rule, 'fp32');
    const ms = Math.min(s.medianMs, s.pipelinedMs);
    return [
      s.net,
      s.rule.toUpperCase(),
      f1(s.medianMs),
      f1(s.pipelinedMs),
      f0(s.imgPerSec),
      f1(f32?.medianMs),
      f1(t32?.medianMs),
      f32 ? `${(ms / f32.medianMs).toFixed(1)}×` : '–',
      f1(s.hostMs),
      f0(s.dispatches),
      pct(s.bindGroupReuse),
      s.tensorDelta === 0 ? 'yes' : `+${s.tensorDelta}`,
    ];
  });
  return table(
    [
      'net',
      'rule',
      'webgpu ms/step (median)',
      'pipelined ms/step',
      'webgpu img/s',
      'PyTorch fp32 ms',
      'PyTorch TF32 ms',
      'webgpu / PyTorch fp32',
      'host ms/step',
      'dispatches/step',
      'bind groups reused',
      'tensors flat',
    ],
    rows,
  );
}

/**
 * A variant's pipelined step time over the default's (the mean of the default rows,
 * measured first and last in the same section, same net and rule).
 */
function vsDefault(v: StepRow, rows: StepRow[]): string {
  const base = rows.filter((s) => s.net === v.net && s.rule === v.rule && s.variant === 'default');
  const ms = base.reduce((a, s) => a + s.pipelinedMs, 0) / base.length;
  return ms > 0 ? `${(v.pipelinedMs / ms).toFixed(2)}x` : '–';
}

export function markdown(r: BenchResults): string {
  const out: string[] = [imagenetMarkdown(r)];
  numericsMarkdown(r, out);
  const legacy = r.steps.length + r.variants.length + r.fused.length > 0 || r.epoch !== null;
  if (legacy) legacyMarkdown(r, out);
  if (r.notes.length > 0) out.push('', '### Left out', '', ...r.notes.map((e) => `- ${e}`));
  if (r.errors.length > 0) out.push('', '### Errors', '', ...r.errors.map((e) => `- ${e}`));
  out.push('', `Benchmark wall time: ${f1(r.wallS)} s.`, '');
  return out.join('\n');
}

/** The numerics row: one KP step on webgpu against the cpu backend (run first). */
function numericsMarkdown(r: BenchResults, out: string[]): void {
  if (r.numerics.length > 0) {
    out.push('', '### One training step, webgpu vs cpu backend', '');
    out.push(
      table(
        ['net', 'rule', 'tensors', 'worst tensor', 'max rel. error', 'tolerance', 'ok'],
        r.numerics.map((n) => [
          n.net,
          n.rule.toUpperCase(),
          n.tensors,
          n.worstTensor,
          n.worstRelErr.toExponential(1),
          n.tolerance,
          n.ok ? 'yes' : 'NO',
        ]),
      ),
    );
  }
}

/** The sections from before issue 16 (32 and 112 px, the CIFAR-10 epoch, variants, kernels). */
function legacyMarkdown(r: BenchResults, out: string[]): void {
  out.push('', `## The first GPU matrix (32 and 112 px): wtrain webgpu vs PyTorch (${r.gpu ?? r.adapter})`);
  out.push('');
  out.push(
    `${r.date}; WebGPU adapter: ${r.adapter}; Node ${r.node}, tfjs ${r.tfjs}; PyTorch ${r.torch.torch ?? '–'} on ${r.torch.device ?? '–'}. ` +
      `Median of ${r.options.steps} steps after ${r.options.warmup} warm-up steps, synthetic data, fp32. ` +
      '"pipelined" = back-to-back steps with at most 2 queued on the GPU (webgpuThrottle), as in training; ' +
      'img/s from the faster of the two. Ratio = webgpu (faster of the two) / PyTorch fp32 (TF32 off). ' +
      '"host ms" = the trainStep() call alone (tfjs and Dawn recording the step, GPU idle), the floor under the step time; ' +
      'dispatches = compute dispatches per step.',
  );
  out.push('');
  out.push(stepTable(r));
  if (!r.torch.ok) out.push('', `PyTorch: not run (${r.torch.reason}).`);
  if (r.variants.length > 0) {
    out.push('', '### Variants (webgpu tuning)', '');
    out.push(
      table(
        [
          'net',
          'rule',
          'variant',
          'ms/step (median)',
          'pipelined ms',
          'img/s',
          'host ms',
          'dispatches',
          'new buffers',
          'bind groups reused',
          'pipelined vs default',
        ],
        r.variants.map((v) => [
          v.net,
          v.rule.toUpperCase(),
          v.variant,
          f1(v.medianMs),
          f1(v.pipelinedMs),
          f0(v.imgPerSec),
          f1(v.hostMs),
          f0(v.dispatches),
          f0(v.buffersCreated),
          pct(v.bindGroupReuse),
          vsDefault(v, r.variants),
        ]),
      ),
    );
    out.push(
      '',
      'A ratio below 1 means the variant beat the default configuration (the mean of its `default` rows, measured first and last in this section, their spread being the drift; one row if the time budget cut the section short); pick `DEFAULT_WEBGPU_TUNING` from these.',
    );
  }
  for (const p of r.profiles.filter((x) => !isImagenetRow(x.net))) out.push(...profileMarkdown(p));
  if (r.fused.length > 0) {
    out.push(
      '',
      '### Fused BatchNorm and SGD kernels vs the generic tf ops, WM mirror noise host vs device (ms per step, all layers)',
      '',
    );
    out.push(
      table(
        [
          'net',
          'BN layers',
          'BN fwd+bwd tf ops',
          'BN fused',
          'SGD params',
          'SGD tf ops',
          'SGD 2 dispatches/param',
          'SGD grouped in place',
          'WM noise samples',
          'noise on host + upload',
          'noise on device',
        ],
        r.fused.map((f) => [
          f.net,
          f.bnLayers,
          f1(f.bnStockMs),
          f1(f.bnFusedMs),
          f.sgdParams,
          f1(f.sgdStockMs),
          f1(f.sgdFusedMs),
          f1(f.sgdGroupedMs),
          f.noiseSamples,
          f1(f.noiseHostMs),
          f1(f.noiseDeviceMs),
        ]),
      ),
    );
  }
  for (const [net, rows] of Object.entries(r.kernels)) {
    out.push('', `### Conv kernels at ${net} shapes (ms per call)`, '');
    out.push(
      table(
        ['layer', 'x', 'filter', 's', 'GFLOP', 'dW stock', 'dW split-K', 'dx naive', 'dx mm', 'forward'],
        rows.map((k) => [
          k.layer,
          `[${k.x}]`,
          `[${k.filter}]`,
          k.stride,
          k.gflop.toFixed(2),
          f1(k.filterGradStockMs),
          f1(k.filterGradOursMs),
          f1(k.inputGradNaiveMs),
          f1(k.inputGradMmMs),
          f1(k.forwardMs),
        ]),
      ),
    );
  }
  if (r.epoch && 'steps' in r.epoch) {
    const e = r.epoch;
    out.push('', '### One CIFAR-10 epoch, Kolen-Pollack', '');
    out.push(
      table(
        [
          'net',
          'data',
          'steps',
          'train wall s',
          'img/s',
          'val pass s',
          'train loss',
          'train top-1 err',
          'val top-1 err',
        ],
        [
          [
            e.net,
            e.data,
            e.steps,
            f1(e.trainWallS),
            f0(e.imgPerSec),
            f1(e.evalWallS),
            e.trainLoss.toFixed(3),
            e.trainTop1Error.toFixed(3),
            e.valTop1Error.toFixed(3),
          ],
        ],
      ),
    );
  } else if (r.epoch) out.push('', `CIFAR-10 epoch: skipped (${r.epoch.skipped}).`);
}
