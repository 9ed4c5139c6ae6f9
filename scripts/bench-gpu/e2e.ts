/**
 * One end-to-end epoch through `wtrain run` (issue 16, item 4): the ImageNet-like set
 * (data.ts; Imagewoof in ImageNet's layout, ~466x350 px JPEGs) at 224 px, ResNet-50 under
 * Kolen-Pollack on webgpu, decoded by the loader's worker threads (all cores but one),
 * then one val pass. It runs the bundle's wtrain.mjs (or bin/wtrain.js in a checkout) as
 * its own process, as a user would, with the run directory under BENCH_WORK; its config,
 * metrics.jsonl and output tail are copied to $OUT/e2e/. From the step records it derives
 * the training rate and the share of time spent waiting for data, leaving out the first
 * interval (pipeline compilation, workers starting).
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { imagenetLikeSet, uvPoolFor, workDir } from './data.js';
import type { SectionBase } from './options.js';
import { givePoolBack } from './steps.js';

export interface E2eResult {
  arch: string;
  rule: string;
  batch: number;
  imageSize: number;
  workers: number;
  /** UV_THREADPOOL_SIZE the run got (sharp decodes on libuv's pool; data.ts says why). */
  uvThreads: number;
  trainImages: number;
  valImages: number;
  exitCode: number | null;
  signal: string | null;
  /** The whole `wtrain run` process: start-up, listing, the epoch, the val pass, the final checkpoint. */
  processS: number;
  steps: number;
  /** Steady state: images / seconds over the step records after the first. */
  trainImgPerSec: number | null;
  /** Share of that time the loop waited for the next batch (the rest: the step and its bookkeeping). */
  dataWait: number | null;
  /** The first interval (compilation, workers starting): seconds and steps. */
  firstIntervalS: number | null;
  firstIntervalSteps: number | null;
  trainLoss: number | null;
  valTop1: number | null;
  /** The epoch record's own img/s and data wait (its clock also runs through the val pass). */
  epochImgPerSec: number | null;
  epochDataWait: number | null;
}

interface Rec {
  kind: 'step' | 'epoch';
  step: number;
  wall_s: number;
  img_per_s: number | null;
  data_wait: number | null;
  train_loss: number | null;
  val_top1: number | null;
}

/** wtrain.mjs beside this bundle, else the checkout's bin/wtrain.js. */
function findWtrain(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const bundled = path.join(here, 'wtrain.mjs');
  return existsSync(bundled) ? bundled : path.resolve(here, '..', '..', 'bin', 'wtrain.js');
}

function configYaml(o: {
  dir: string;
  arch: string;
  width: number;
  batch: number;
  size: number;
  workers: number;
}): string {
  return `# bench-gpu's end-to-end epoch (scripts/bench-gpu/e2e.ts)
description: issue 16 end-to-end epoch, ${o.arch} KP on webgpu, ImageNet-like JPEGs at ${o.size} px
model: { arch: ${o.arch}, width: ${o.width}, bn_position: after_relu }
rule: { name: kp }
optimizer: { lr: auto, momentum: 0.9, nesterov: true, weight_decay: 1.0e-4 }
schedule: { warmup_epochs: 0, decay_epochs: [] }
train: { epochs: 1, batch_size: ${o.batch}, angles_every: 0, log_every: ${o.batch >= 64 ? 5 : 1}, eval_every: 1 }
backend: { name: webgpu }
data: { source: imagefolder, path: ${JSON.stringify(o.dir)}, image_size: ${o.size}, workers: ${o.workers} }
run: { checkpoint_every: 0, tensorboard: false, report: false, progress: lines }
`;
}

/** Steady-state rate and data wait from the step records (wall_s differences), leaving out the first. */
export function summarise(recs: Rec[], batch: number) {
  const steps = recs.filter((r) => r.kind === 'step');
  let [images, seconds, waited] = [0, 0, 0];
  for (let i = 1; i < steps.length; i++) {
    const dt = steps[i].wall_s - steps[i - 1].wall_s;
    images += (steps[i].step - steps[i - 1].step) * batch;
    seconds += dt;
    waited += (steps[i].data_wait ?? 0) * dt;
  }
  const epoch = recs.find((r) => r.kind === 'epoch') ?? null;
  return {
    steps: steps.at(-1)?.step ?? 0,
    trainImgPerSec: seconds > 0 ? images / seconds : null,
    dataWait: seconds > 0 ? waited / seconds : null,
    firstIntervalS: steps[0]?.wall_s ?? null,
    firstIntervalSteps: steps[0]?.step ?? null,
    trainLoss: epoch?.train_loss ?? null,
    valTop1: epoch?.val_top1 ?? null,
    epochImgPerSec: epoch?.img_per_s ?? null,
    epochDataWait: epoch?.data_wait ?? null,
  };
}

/** The epoch's part of the results (results.ts's BenchResults has it). */
export type E2eContext = SectionBase & { r: { e2e: E2eResult | null; errors: string[] } };

export async function e2eEpoch(ctx: E2eContext): Promise<void> {
  const { r, o } = ctx;
  const set = await imagenetLikeSet(ctx);
  const net = o.tiny
    ? { arch: 'resnet50', width: 0.125, batch: 8, size: 64 }
    : { arch: 'resnet50', width: 1, batch: 128, size: 224 };
  const workers = Math.max(1, Math.min(64, availableParallelism() - 1));
  const base = path.join(workDir(), 'e2e');
  const runDir = path.join(base, 'run');
  rmSync(base, { recursive: true, force: true });
  mkdirSync(base, { recursive: true });
  const config = path.join(base, 'config.yaml');
  writeFileSync(config, configYaml({ dir: set.dir, ...net, workers }));
  await givePoolBack();
  const t0 = performance.now();
  const res = spawnSync(
    process.execPath,
    [findWtrain(), 'run', config, '--run-dir', runDir, '--no-report', '--progress', 'lines'],
    {
      env: { ...process.env, UV_THREADPOOL_SIZE: String(uvPoolFor(workers)) },
      encoding: 'utf8',
      timeout: Math.round(Math.max(60, ctx.timeLeft()) * 1000),
      killSignal: 'SIGKILL',
      maxBuffer: 64 << 20,
    },
  );
  const processS = (performance.now() - t0) / 1000;
  const out = path.join(o.out, 'e2e');
  mkdirSync(out, { recursive: true });
  copyFileSync(config, path.join(out, 'config.yaml'));
  writeFileSync(
    path.join(out, 'output.txt'),
    `${res.stdout ?? ''}\n${res.stderr ?? ''}`.split('\n').slice(-200).join('\n'),
  );
  const metrics = path.join(runDir, 'metrics.jsonl');
  const recs: Rec[] = existsSync(metrics)
    ? readFileSync(metrics, 'utf8')
        .split('\n')
        .filter((l) => l.trim())
        .map((l) => JSON.parse(l) as Rec)
    : [];
  if (existsSync(metrics)) copyFileSync(metrics, path.join(out, 'metrics.jsonl'));
  r.e2e = {
    arch: net.arch,
    rule: 'kp',
    batch: net.batch,
    imageSize: net.size,
    workers,
    uvThreads: uvPoolFor(workers),
    trainImages: set.train,
    valImages: set.val,
    exitCode: res.status,
    signal: res.signal,
    processS,
    ...summarise(recs, net.batch),
  };
  if (res.status !== 0)
    r.errors.push(
      `end-to-end epoch: wtrain run exited ${res.status ?? res.signal}${res.error ? ` (${res.error.message})` : ''}; see e2e/output.txt`,
    );
}
