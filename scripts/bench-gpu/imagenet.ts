/**
 * Issue 16's measurements, the first sections of a bench-gpu call: ResNet-18 and
 * ResNet-50 at 224 px (1000 classes), batch 128 and 256, under bp and kp, then wm, then
 * fa and ss, each beside PyTorch fp32 / AMP / TF32 on the same card, with peak GPU
 * memory; the data pipeline at 224 px on the node's cores (data.ts); one epoch through
 * `wtrain run` (e2e.ts); one kernel profile of ResNet-50. A section that cannot finish
 * before the time budget runs the rows it can, most important first, and says what it left.
 */
import * as tf from '@tensorflow/tfjs-core';
import { withErrorScopes } from '../../src/backend/webgpu/device_errors.js';
import { webgpuFinish } from '../../src/backend/webgpu/index.js';
import type { WebGPUBackend } from '../../src/backend/webgpu/program.js';
import { dataSection } from './data.js';
import { e2eEpoch } from './e2e.js';
import { type AnyRule, imagenetNets, type NetConfig } from './options.js';
import type { IssueContext } from './results.js';
import { benchStep, givePoolBack, profileStep, type StepRow } from './steps.js';
import { findTorchScript, mergeTorch, runTorch } from './torch.js';

export interface Section {
  name: string;
  run: () => Promise<void>;
}

/** Seconds the last row of each (arch, batch) took, to judge whether the next one fits. */
const took = new Map<string, number>();
const key = (arch: string, batch: number) => `${arch}:${batch}`;

/** A row's likely duration: the same net's last row (WM ~1.7x), else twice half its batch's, else 0. */
function estimateS(net: NetConfig, rule: AnyRule): number {
  const half = took.get(key(net.arch, net.batch / 2));
  const base = took.get(key(net.arch, net.batch)) ?? (half === undefined ? 0 : 2 * half);
  return rule === 'wm' ? 1.7 * base : base;
}

/** wtrain rows: each (net, rule) in its own error scopes, so an out-of-memory row fails alone. */
async function wtrainRows(ctx: IssueContext, nets: NetConfig[], rules: AnyRule[]): Promise<void> {
  const { r, o } = ctx;
  const device = (tf.backend() as unknown as WebGPUBackend).device;
  for (const net of nets) {
    for (const rule of rules) {
      const need = estimateS(net, rule);
      if (ctx.timeLeft() < need) {
        r.notes.push(
          `${net.label} ${rule}: not measured (about ${need.toFixed(0)} s, ${ctx.timeLeft().toFixed(0)} s of budget left)`,
        );
        continue;
      }
      const t0 = performance.now();
      const got: { row?: StepRow; failed?: string } = {};
      try {
        const error = await withErrorScopes(device, async () => {
          got.row = await benchStep(net, rule, o.bigWarmup, o.bigSteps);
          await webgpuFinish();
        });
        if (error) got.failed = `device error: ${error.split('\n')[0]}`;
      } catch (err) {
        got.failed = (err as Error).message.split('\n').slice(0, 2).join(' ');
      }
      took.set(key(net.arch, net.batch), (performance.now() - t0) / 1000);
      if (got.failed || !got.row) {
        r.errors.push(`${net.label} ${rule}: ${got.failed ?? 'no result'}`);
        ctx.log(`${net.label} ${rule} failed: ${got.failed}`);
      } else {
        r.imagenet.push(got.row);
        const mib = (got.row.peakUsedMb ?? 0).toFixed(0);
        ctx.log(
          `${net.label} ${rule}: pipelined ${got.row.pipelinedMs.toFixed(1)} ms/step, peak ${mib} MiB held`,
        );
      }
      ctx.save();
    }
  }
}

/** PyTorch on the same nets (fp32 and AMP first, then TF32), merged into r.torchImagenet. */
async function torchRows(ctx: IssueContext, nets: NetConfig[], rules: AnyRule[], tag: string): Promise<void> {
  const { r, o } = ctx;
  if (!o.torch) return;
  await givePoolBack();
  const outFile = `${o.out}/torch-imagenet-${tag}.json`;
  const res = runTorch(o.python, findTorchScript(o.torchScript), nets, rules, {
    steps: o.bigSteps,
    warmup: o.bigWarmup,
    device: o.torchDevice,
    outFile,
    timeoutS: Math.max(30, Math.round(ctx.timeLeft())),
    precisions: ['fp32', 'amp', 'tf32'],
  });
  r.torchImagenet =
    r.torchImagenet.ok || r.torchImagenet.rows.length > 0 ? mergeTorch(r.torchImagenet, res) : res;
  if (!res.ok) r.notes.push(`PyTorch (${rules.join(', ')}): not run (${res.reason})`);
}

/** The sections in the order they run (--no-imagenet keeps only the data pipeline and the epoch). */
export function issueSections(ctx: IssueContext): Section[] {
  const { o } = ctx;
  const nets = imagenetNets(o);
  const main = o.imagenet ? o.bigRules.filter((x) => x === 'bp' || x === 'kp') : [];
  const rest = o.imagenet ? o.bigRules.filter((x) => x !== 'bp' && x !== 'kp') : [];
  const extra = o.imagenet ? o.extraRules : [];
  const steps = (rules: AnyRule[]): Section => ({
    name: `imagenet steps (${rules.join(', ')})`,
    run: () => wtrainRows(ctx, nets, rules),
  });
  const torch = (rules: AnyRule[], tag: string): Section => ({
    name: `imagenet pytorch (${rules.join(', ')})`,
    run: () => torchRows(ctx, nets, rules, tag),
  });
  const sections: Section[] = [];
  if (main.length > 0) sections.push(steps(main), torch(main, 'main'));
  if (rest.length > 0) sections.push(steps(rest));
  if (o.data) sections.push({ name: 'data pipeline at 224 px', run: () => dataSection(ctx) });
  if (o.e2e) sections.push({ name: 'end-to-end epoch (wtrain run)', run: () => e2eEpoch(ctx) });
  const r50 = nets.find((n) => n.arch === 'resnet50') ?? nets[0];
  if (o.imagenet && o.profile)
    sections.push({
      name: `kernel profile ${r50.label} bp`,
      run: async () => {
        ctx.r.profiles.push(await profileStep(r50, 'bp', 16));
      },
    });
  if (rest.length > 0) sections.push(torch(rest, 'rest'));
  if (extra.length > 0) sections.push(steps(extra), torch(extra, 'extra'));
  return sections;
}
