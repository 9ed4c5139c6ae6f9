/**
 * How the host caches (src/backend/webgpu/host_caches.ts) warm up over a run of training
 * steps, with and without the fixed buffer order at step boundaries (benchmark, not a
 * test): per window of steps, the share of bind groups reused and the bind groups made
 * per step; at the end, all bind groups made (the cache's working set once reuse is
 * ~100 %). One trainer, trainStep + settle() per step, as `wtrain run` does.
 *
 *   node --import tsx scripts/bench-host-caches.ts [--steps 100] [--window 25] [--nets resnet20] [--rules bp] [--order on,off]
 *
 * Nets at width 1/8, batch 2, 16 px, as in bench-dispatch (reuse depends on the
 * sequence of dispatches, not on their size). Any adapter works.
 */
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { hostCacheStats, setCanonicalBufferOrder } from '../src/backend/webgpu/host_caches.js';
import type { WebGPUBackend } from '../src/backend/webgpu/program.js';
import type { ModelConfig } from '../src/models/config.js';
import type { AnyRule } from './bench-gpu/options.js';
import { buildTrainer, syntheticBatch, webgpuOrExit } from './bench-gpu/trainer.js';
import { f1, pct, table } from './stats.js';

const { values: args } = parseArgs({
  options: {
    steps: { type: 'string', default: '100' },
    window: { type: 'string', default: '25' },
    nets: { type: 'string', default: 'resnet20' },
    rules: { type: 'string', default: 'bp' },
    order: { type: 'string', default: 'on,off' },
  },
});
const steps = Number(args.steps);
const window = Number(args.window);

const adapter = await webgpuOrExit('bench-host-caches');
const stats = hostCacheStats(tf.backend() as unknown as WebGPUBackend);
if (!stats) throw new Error('host caches not installed');
console.log(`adapter: ${adapter}; ${steps} steps, windows of ${window}`);
const rows: Array<Array<string | number>> = [];
for (const arch of args.nets.split(',') as Array<ModelConfig['arch']>) {
  for (const rule of args.rules.split(',') as AnyRule[]) {
    for (const order of args.order.split(',')) {
      // A fresh trainer's buffers are new objects, so earlier rows' cache entries never hit.
      setCanonicalBufferOrder(order === 'on');
      const trainer = await buildTrainer({ arch, width: 0.125, batch: 2, size: 16, label: arch }, rule);
      const batch = syntheticBatch(2, 16, 1);
      const start = stats.bindGroupMisses;
      let last = { hits: stats.bindGroupHits, misses: stats.bindGroupMisses };
      for (let s = 1; s <= steps; s++) {
        trainer.trainStep(batch, 0.01);
        await trainer.settle();
        if (s % window === 0 || s === steps) {
          const hits = stats.bindGroupHits - last.hits;
          const made = stats.bindGroupMisses - last.misses;
          const n = s % window || window;
          rows.push([
            arch,
            rule.toUpperCase(),
            order,
            `${s - n + 1}-${s}`,
            pct(hits / (hits + made)),
            f1(made / n),
          ]);
          last = { hits: stats.bindGroupHits, misses: stats.bindGroupMisses };
        }
      }
      rows.push([arch, rule.toUpperCase(), order, 'all', '', `${stats.bindGroupMisses - start} made in all`]);
      trainer.dispose();
    }
  }
}
setCanonicalBufferOrder(true);
console.log(
  table(
    ['net', 'rule', 'fixed buffer order', 'steps', 'bind groups reused', 'bind groups made per step'],
    rows,
  ),
);
process.exit(0);
