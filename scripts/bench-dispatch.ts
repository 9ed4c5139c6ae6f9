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
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { registerWebgpuOps } from '../src/backend/webgpu/index.js';
import { webgpuFinish } from '../src/backend/webgpu/sync.js';
import type { ModelConfig } from '../src/models/config.js';
import type { Trainer } from '../src/train/types.js';
import { type AnyRule, FUSION_VARIANTS, type TuningVariant, variantsFor } from './bench-gpu/options.js';
import { countedStep } from './bench-gpu/steps.js';
import { buildTrainer, syntheticBatch, webgpuOrExit } from './bench-gpu/trainer.js';
import { f1, median, pct, table } from './stats.js';

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    steps: { type: 'string', default: '3' },
    nets: { type: 'string', default: 'resnet20,resnet18' },
    rules: { type: 'string', default: 'bp,kp' },
  },
});
const rounds = Number(args.rounds);
const steps = Number(args.steps);
const nets = args.nets.split(',') as Array<ModelConfig['arch']>;
const rules = args.rules.split(',') as AnyRule[];
const ALL_VARIANTS: TuningVariant[] = [{ name: 'default', tuning: {} }, ...FUSION_VARIANTS];

const adapter = await webgpuOrExit('bench-dispatch');
console.log(
  `adapter: ${adapter}; ${rounds} rounds x ${steps} steps per variant, interleaved, after one warm-up round`,
);
const rows: Array<Array<string | number>> = [];
for (const arch of nets) {
  for (const rule of rules) {
    const net = { arch, width: 0.125, batch: 2, size: 16, label: arch };
    const batch = syntheticBatch(net.batch, net.size, 1);
    const variants = variantsFor(ALL_VARIANTS, rule);
    const stats = variants.map(() => ({
      host: [] as number[],
      dispatches: 0,
      buffers: 0,
      n: 0,
      hits: 0,
      groups: 0,
    }));
    const trainers: Trainer[] = [];
    for (const { tuning } of variants) {
      registerWebgpuOps({ ...tuning, submitBatch: 100_000 });
      trainers.push(await buildTrainer(net, rule));
    }
    for (let r = 0; r <= rounds; r++) {
      for (let v = 0; v < variants.length; v++) {
        registerWebgpuOps({ ...variants[v].tuning, submitBatch: 100_000 });
        for (let s = 0; s < steps; s++) {
          const c = countedStep(trainers[v], batch, 0.01);
          await webgpuFinish();
          if (r === 0) continue; // warm-up round: pipelines compiled, buffer pools filled
          stats[v].hits += c.groupsReused;
          stats[v].groups += c.groupsReused + c.groupsMade;
          stats[v].host.push(c.hostMs);
          stats[v].dispatches += c.dispatches;
          stats[v].buffers += c.buffers;
          stats[v].n++;
        }
      }
    }
    variants.forEach(({ name }, v) => {
      const s = stats[v];
      const range = `${f1(Math.min(...s.host))}-${f1(Math.max(...s.host))}`;
      rows.push([
        arch,
        rule.toUpperCase(),
        name,
        Math.round(s.dispatches / s.n),
        Math.round(s.buffers / s.n),
        pct(s.hits / s.groups),
        f1(median(s.host)),
        range,
      ]);
      trainers[v].dispose();
    });
  }
}
console.log(
  table(
    [
      'net',
      'rule',
      'variant',
      'dispatches/step',
      'new buffers/step',
      'bind groups reused',
      'host ms/step (median)',
      'range',
    ],
    rows,
  ),
);
console.log(`tensors at exit: ${tf.memory().numTensors}`);
process.exit(0);
