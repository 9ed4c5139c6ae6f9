/**
 * Host cost of a webgpu training step (benchmark, not a test): compute dispatches per
 * step and the time the trainStep() call takes on the CPU (tfjs + Dawn recording the
 * step, the GPU idle), for the default webgpu kernels and for variants that give one
 * fusion back. Variants are interleaved round by round, so drifting machine speed hits
 * them alike. On a fast GPU the host time is the floor under the step time: steps
 * overlap with at most 2 queued, so a step costs max(host, GPU).
 *
 *   node --import tsx scripts/bench-dispatch.ts [--rounds 5] [--steps 3] [--nets resnet20,resnet18] [--rules bp,kp]
 *
 * Rules: any of bp, fa, ss, kp, wm (ss uses the config's default variant, usf).
 *
 * Nets are the CIFAR ResNets at width 1/8, batch 2, 16x16 (dispatch count does not
 * depend on size; on lavapipe their GPU work stays small). Commands are recorded in one
 * command buffer per step (no submit mid-step), so lavapipe executing on the same
 * cores does not contend with the timed recording.
 */
import * as tf from '@tensorflow/tfjs-core';
import { initWebgpuBackend, registerWebgpuOps, type WebgpuTuning } from '../src/backend/webgpu/index.js';
import { webgpuFinish } from '../src/backend/webgpu/sync.js';
import { dawnCounts } from './bench-gpu/dispatches.js';
import type { AnyRule } from './bench-gpu/options.js';
import { median } from './bench-gpu/steps.js';
import { buildTrainer, syntheticBatch } from './bench-gpu/trainer.js';

/** [name, tuning, the rules it changes anything for (all when absent)]. */
const ALL_VARIANTS: Array<[string, Partial<WebgpuTuning>, string[]?]> = [
  ['default', {}],
  ['SGD: 2 dispatches per parameter', { sgd: 'each' }],
  ['ReLU, ReLU→BN and loss head as tf ops', { smallOps: 'stock' }],
  ['noise drawn on the host and uploaded', { noise: 'host' }, ['wm']],
];

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

const rounds = Number(arg('rounds', '5'));
const steps = Number(arg('steps', '3'));
const nets = arg('nets', 'resnet20,resnet18').split(',') as Array<'resnet20' | 'resnet18'>;
const rules = arg('rules', 'bp,kp').split(',') as AnyRule[];

const init = await initWebgpuBackend();
if (!init.ok) {
  console.error(`bench-dispatch: ${init.reason}`);
  process.exit(1);
}
console.log(`adapter: ${init.adapter}; ${rounds} rounds x ${steps} steps per variant, interleaved`);
console.log('| net | rule | variant | dispatches/step | new buffers/step | host ms/step (median) | range |');
console.log('| --- | --- | --- | --- | --- | --- | --- |');
for (const arch of nets) {
  for (const rule of rules) {
    const net = { arch, width: 0.125, batch: 2, size: 16, label: arch };
    const batch = syntheticBatch(net.batch, net.size, 1);
    const VARIANTS = ALL_VARIANTS.filter(([, , only]) => !only || only.includes(rule));
    const stats = VARIANTS.map(() => ({ host: [] as number[], dispatches: 0, buffers: 0, n: 0 }));
    const trainers = [];
    for (const [, tuning] of VARIANTS) {
      registerWebgpuOps({ ...tuning, submitBatch: 100_000 });
      const t = await buildTrainer(net, rule);
      t.trainStep(batch, 0.01); // pipelines compiled
      await webgpuFinish();
      trainers.push(t);
    }
    for (let r = 0; r < rounds; r++) {
      for (let v = 0; v < VARIANTS.length; v++) {
        registerWebgpuOps({ ...VARIANTS[v][1], submitBatch: 100_000 });
        for (let s = 0; s < steps; s++) {
          const before = dawnCounts();
          const t0 = performance.now();
          trainers[v].trainStep(batch, 0.01);
          stats[v].host.push(performance.now() - t0);
          const after = dawnCounts();
          stats[v].dispatches += after.dispatches - before.dispatches;
          stats[v].buffers += after.buffers - before.buffers;
          stats[v].n++;
          await webgpuFinish();
        }
      }
    }
    for (let v = 0; v < VARIANTS.length; v++) {
      const s = stats[v];
      const lo = Math.min(...s.host).toFixed(1);
      const hi = Math.max(...s.host).toFixed(1);
      console.log(
        `| ${arch} | ${rule.toUpperCase()} | ${VARIANTS[v][0]} | ${Math.round(s.dispatches / s.n)} | ${Math.round(s.buffers / s.n)} | ${median(s.host).toFixed(1)} | ${lo}-${hi} |`,
      );
      trainers[v].dispose();
    }
  }
}
console.log(`tensors at exit: ${tf.memory().numTensors}`);
process.exit(0);
