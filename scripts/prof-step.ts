/**
 * Kernel-time profile of one training step (tf.profile), summed by kernel name.
 *   node --import tsx scripts/prof-step.ts [rule] [arch] [batch] [size] [backend] [threads]
 */
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../src/backend/index.js';
import { syntheticBatch, syntheticInfo } from '../src/data/synthetic.js';
import { modelConfigSchema } from '../src/models/config.js';
import { ruleConfigSchema } from '../src/rules/config.js';
import { optimizerConfigSchema, trainConfigSchema } from '../src/train/config.js';
import { NetworkTrainer } from '../src/train/trainer.js';

const [rule = 'bp', arch = 'resnet20', bs = '128', size = '32', backend = 'wasm', threads = '1'] =
  process.argv.slice(2);
await initBackend({ name: backend as 'wasm', threads: Number(threads) });
const e = new NetworkTrainer(
  {
    model: modelConfigSchema.parse({ arch }),
    rule: ruleConfigSchema.parse({ name: rule }),
    optimizer: optimizerConfigSchema.parse({}),
    train: trainConfigSchema.parse({}),
  },
  syntheticInfo(Number(size)),
);
const batch = syntheticBatch(Number(bs), Number(size), 1);
e.trainStep(batch, 0.05);
const plain: number[] = [];
for (let i = 0; i < 3; i++) {
  const t = performance.now();
  e.trainStep(batch, 0.05);
  plain.push(performance.now() - t);
}
console.log(`unprofiled steps: ${plain.map((t) => t.toFixed(0)).join(', ')} ms`);
const t0 = performance.now();
const prof = await tf.profile(() => e.trainStep(batch, 0.05));
const wall = performance.now() - t0;
const agg = new Map<string, { ms: number; n: number }>();
for (const k of prof.kernels) {
  const a = agg.get(k.name) ?? { ms: 0, n: 0 };
  a.ms += k.kernelTimeMs as number;
  a.n++;
  agg.set(k.name, a);
}
const rows = [...agg.entries()].sort((a, b) => b[1].ms - a[1].ms);
const total = rows.reduce((s, [, a]) => s + a.ms, 0);
console.log(
  `wall ${wall.toFixed(0)} ms, kernel total ${total.toFixed(0)} ms, ${prof.kernels.length} kernels`,
);
for (const [n, a] of rows.slice(0, 20)) console.log(n.padEnd(22), a.ms.toFixed(1).padStart(8), a.n);
