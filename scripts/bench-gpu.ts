/**
 * GPU benchmark (not a test): wtrain's training step on the webgpu backend against
 * PyTorch on the same card. Writes results.md, results.json and bench.json to --out
 * (default $OUT). Sections, most important first, each saved as it finishes:
 *
 * - issue 16 (bench-gpu/imagenet.ts): ResNet-18/50 at 224 px, batch 128/256, BP and KP,
 *   PyTorch fp32/AMP/TF32 beside them, WM, the data pipeline at 224 px on the node's
 *   cores, one epoch through `wtrain run`, a ResNet-50 kernel profile, then FA and SS;
 * - then, while the budget (BENCH_BUDGET_S) lasts, the first GPU matrix: numerics vs cpu,
 *   step times (ResNet-20/18 × batch × BP/KP at 32/112 px), PyTorch, one CIFAR-10 epoch
 *   with KP, kernel profiles, tuning variants, fused BN/SGD kernels, per-layer conv kernels.
 *
 * See docs/gpu.md.
 *
 *   node bundle/bench-gpu.mjs [--tiny] [--woof DIR] [--cifar DIR] ...   (or: node --import tsx scripts/bench-gpu.ts)
 *   node bundle/bench-gpu.mjs check ...   scripts/gpu-check.ts's correctness check (bench-gpu/check.ts)
 *   node bundle/bench-gpu.mjs doctor      what this machine has and lacks for webgpu (src/backend/webgpu/doctor.ts)
 *   node bundle/bench-gpu.mjs data-rate … one data-pipeline rate, in a child process of the data section (bench-gpu/data.ts)
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { withErrorScopes } from '../src/backend/webgpu/device_errors.js';
import { checkWebgpuSetup, formatCheck } from '../src/backend/webgpu/doctor.js';
import { initWebgpuBackend, registerWebgpuOps, webgpuFinish } from '../src/backend/webgpu/index.js';
import type { WebGPUBackend } from '../src/backend/webgpu/program.js';
import { gpuCheck } from './bench-gpu/check.js';
import { dataRate } from './bench-gpu/data.js';
import { cifarEpoch } from './bench-gpu/epoch.js';
import { benchFused } from './bench-gpu/fused.js';
import { issueSections } from './bench-gpu/imagenet.js';
import { benchConvKernels } from './bench-gpu/kernels.js';
import { compareWithCpu } from './bench-gpu/numerics.js';
import {
  type BenchOptions,
  CONV_VARIANTS,
  FUSION_VARIANTS,
  type NetConfig,
  netConfigs,
  parseOptions,
  type TuningVariant,
  variantsFor,
} from './bench-gpu/options.js';
import { markdown } from './bench-gpu/report.js';
import { benchJson } from './bench-gpu/report-imagenet.js';
import type { BenchResults } from './bench-gpu/results.js';
import { benchStep, profileStep, type StepRow } from './bench-gpu/steps.js';
import { findTorchScript, runTorch } from './bench-gpu/torch.js';
import { buildTrainer, convLayers, mirrorNoiseShapes } from './bench-gpu/trainer.js';

/** BP's variants, between two runs of the default configuration (their spread is the drift). */
const VARIANTS: TuningVariant[] = [
  { name: 'default', tuning: {} },
  ...CONV_VARIANTS,
  { name: 'submit every 64 dispatches', tuning: { submitBatch: 64 } },
  { name: 'split-K 256 workgroups', tuning: { filterGradWorkgroups: 256 } },
  { name: 'split-K 4096 workgroups', tuning: { filterGradWorkgroups: 4096 } },
  ...variantsFor(FUSION_VARIANTS, 'bp'),
  { name: 'default', tuning: {} },
];

function gpuName(): string | null {
  const r = spawnSync('nvidia-smi', ['--query-gpu=name,driver_version', '--format=csv,noheader'], {
    encoding: 'utf8',
  });
  return r.status === 0 ? r.stdout.trim().split('\n')[0].replace(',', ', driver') : null;
}

const log = (msg: string) => process.stderr.write(`bench-gpu: ${msg}\n`);

async function section(
  name: string,
  r: BenchResults,
  o: BenchOptions,
  t0: number,
  budgetS: number,
  fn: () => Promise<void>,
) {
  const elapsed = (performance.now() - t0) / 1000;
  if (elapsed > budgetS) {
    r.notes.push(`${name}: not run, the time budget of ${budgetS} s (BENCH_BUDGET_S) was spent`);
    return;
  }
  log(`${name} (${elapsed.toFixed(0)} s elapsed)`);
  let threw = false;
  // A device error fails this section only (its kernels did nothing); withErrorScopes
  // charges a late one to this section, not the next. The next starts clean.
  const deviceError = await withErrorScopes(webgpuDevice(), async () => {
    try {
      await fn();
    } catch (err) {
      threw = true;
      r.errors.push(`${name}: ${(err as Error).stack?.split('\n').slice(0, 3).join(' ') ?? String(err)}`);
      log(`${name} failed: ${(err as Error).message}`);
    }
    if (tf.getBackend() !== 'webgpu') await tf.setBackend('webgpu');
    await webgpuFinish().catch(() => {});
  });
  if (deviceError && !threw)
    r.errors.push(`${name}: device error, its numbers are not valid: ${deviceError.split('\n')[0]}`);
  registerWebgpuOps();
  save(r, o, t0);
}

const webgpuDevice = () => (tf.findBackend('webgpu') as unknown as WebGPUBackend).device;

function save(r: BenchResults, o: BenchOptions, t0: number): void {
  r.wallS = (performance.now() - t0) / 1000;
  writeFileSync(path.join(o.out, 'results.json'), `${JSON.stringify(r, null, 2)}\n`);
  writeFileSync(path.join(o.out, 'results.md'), markdown(r));
  writeFileSync(path.join(o.out, 'bench.json'), `${JSON.stringify(benchJson(r), null, 2)}\n`);
}

/** `bench-gpu.mjs doctor`: the machine's webgpu setup, item by item; exit 1 when something required is missing. */
async function doctor(): Promise<number> {
  const { text, ok } = formatCheck(await checkWebgpuSetup());
  process.stdout.write(`${text}\n`);
  return ok ? 0 : 1;
}

function pick(nets: NetConfig[], pred: (n: NetConfig) => boolean): NetConfig[] {
  const found = nets.filter(pred);
  return found.length > 0 ? found : nets.slice(0, 1);
}

async function main(): Promise<number> {
  if (process.argv[2] === 'check') return gpuCheck(process.argv.slice(3));
  if (process.argv[2] === 'doctor') return doctor();
  if (process.argv[2] === 'data-rate') return dataRate(process.argv.slice(3));
  const t0 = performance.now();
  const o = parseOptions(process.argv.slice(2));
  const budgetS = Number(process.env.BENCH_BUDGET_S) || 420;
  mkdirSync(o.out, { recursive: true });
  const init = await initWebgpuBackend();
  const r: BenchResults = {
    date: new Date().toISOString(),
    adapter: init.ok ? init.adapter : 'none',
    gpu: gpuName(),
    node: process.version,
    tfjs: tf.version_core,
    options: { ...o },
    steps: [],
    variants: [],
    torch: { ok: false, reason: 'not run', rows: [] },
    profiles: [],
    kernels: {},
    fused: [],
    numerics: [],
    epoch: null,
    limits: init.ok ? init.limits : null,
    imagenet: [],
    torchImagenet: { ok: false, reason: 'not run', rows: [] },
    data: null,
    e2e: null,
    notes: [],
    errors: [],
    wallS: 0,
  };
  if (!init.ok) {
    r.errors.push(`webgpu: ${init.reason}`);
    save(r, o, t0);
    log(init.reason);
    return 1;
  }
  registerWebgpuOps();
  log(`adapter: ${init.adapter}`);
  const timeLeft = () => budgetS - (performance.now() - t0) / 1000;
  const ctx = { r, o, timeLeft, save: () => save(r, o, t0), log };
  // A few seconds, first: every number after it comes from a step that matches the cpu backend.
  if (o.numerics) {
    await section('numerics vs cpu', r, o, t0, budgetS, async () => {
      const n = netConfigs({ ...o, only: 'resnet20' })[0];
      const small = { ...n, batch: o.tiny ? 2 : 8, label: `${n.arch} b${o.tiny ? 2 : 8} ${n.size}px` };
      // Seed 1: seed 3's batch puts a ReLU input within rounding of 0 (scripts/gpu-check.ts).
      r.numerics.push(await compareWithCpu(small, 'kp', 1));
    });
  }
  for (const s of issueSections(ctx)) await section(s.name, r, o, t0, budgetS, s.run);
  if (o.legacy) await legacy(r, o, t0, budgetS);
  save(r, o, t0);
  process.stdout.write(markdown(r));
  log(`results in ${path.resolve(o.out)}/results.{md,json} and bench.json`);
  return r.steps.length + r.imagenet.length > 0 && r.errors.length === 0 ? 0 : 1;
}

/** The sections from before issue 16, after its own (docs/gpu.md, Results, runs 1 and 2). */
async function legacy(r: BenchResults, o: BenchOptions, t0: number, budgetS: number): Promise<void> {
  const nets = netConfigs(o);
  const big = pick(nets, (n) => /b512|112px/.test(n.label));

  await section('training steps', r, o, t0, budgetS, async () => {
    for (const net of nets) {
      for (const rule of o.rules) {
        const row = await benchStep(net, rule, o.warmup, o.steps);
        log(
          `${net.label} ${rule}: ${row.medianMs.toFixed(1)} ms/step (pipelined ${row.pipelinedMs.toFixed(1)})`,
        );
        r.steps.push(row);
        save(r, o, t0);
      }
    }
  });
  if (o.torch) {
    await section('pytorch', r, o, t0, budgetS, async () => {
      const script = findTorchScript(o.torchScript);
      const outFile = path.join(o.out, 'torch.json');
      r.torch = runTorch(o.python, script, nets, o.rules, {
        steps: o.steps,
        warmup: o.warmup,
        device: o.torchDevice,
        outFile,
        timeoutS: 240,
      });
    });
  }
  if (o.epoch) {
    await section('cifar-10 epoch', r, o, t0, budgetS, async () => {
      if (!o.cifar) {
        r.epoch = { skipped: 'no --cifar DIR (CIFAR-10 binary version) given' };
        return;
      }
      const n = nets.find((x) => x.arch === 'resnet20') ?? nets[0];
      const net = { ...n, batch: o.epochBatch, size: 32, label: `${n.arch} b${o.epochBatch} 32px` };
      r.epoch = await cifarEpoch(o.cifar, net, o.tiny ? 128 : null);
    });
  }
  if (o.profile) {
    await section('kernel profiles', r, o, t0, budgetS, async () => {
      for (const net of big) r.profiles.push(await profileStep(net, 'bp'));
    });
  }
  if (o.variants) {
    await section('tuning variants', r, o, t0, budgetS, async () => {
      for (const net of big) {
        for (const { name, tuning } of VARIANTS) {
          registerWebgpuOps(tuning);
          const steps = tuning.filterGrad === 'stock' ? Math.min(o.steps, 3) : o.steps;
          const row: StepRow = await benchStep(net, 'bp', Math.min(o.warmup, 2), steps, name);
          log(`${net.label} bp [${name}]: ${row.medianMs.toFixed(1)} ms/step`);
          r.variants.push(row);
          save(r, o, t0);
        }
        registerWebgpuOps();
      }
    });
  }
  if (o.kernels) {
    await section('conv kernels', r, o, t0, budgetS, async () => {
      for (const net of big) {
        const trainer = await buildTrainer(net, 'bp');
        const layers = convLayers(trainer);
        const noiseShapes = mirrorNoiseShapes(trainer);
        trainer.dispose();
        r.fused.push(await benchFused(net.label, layers, noiseShapes, net.batch, o.tiny ? 1 : 3));
        save(r, o, t0);
        r.kernels[net.label] = await benchConvKernels(layers, net.batch, o.tiny ? 1 : 3);
        save(r, o, t0);
      }
    });
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`bench-gpu: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
