import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../src/backend/index.js';
import { modelConfigSchema } from '../src/models/config.js';
import { ruleConfigSchema } from '../src/rules/config.js';
import { optimizerConfigSchema, trainConfigSchema } from '../src/train/config.js';
import { Engine } from '../src/train/trainer.js';

await initBackend({ name: 'wasm', threads: 1 });
const bs = 128,
  hw = 32;
const info = {
  source: 'x',
  numClasses: 10,
  classNames: [],
  height: hw,
  width: hw,
  channels: 3,
  mean: [0.5, 0.5, 0.5],
  std: [0.25, 0.25, 0.25],
  trainSize: 0,
  valSize: 0,
};
const e = new Engine(
  {
    model: modelConfigSchema.parse({ arch: 'resnet20' }),
    rule: ruleConfigSchema.parse({ name: process.argv[2] ?? 'bp' }),
    optimizer: optimizerConfigSchema.parse({}),
    train: trainConfigSchema.parse({}),
  },
  info,
);
const batch = {
  x: new Uint8Array(bs * hw * hw * 3).map((_, i) => (i * 7919) % 256),
  y: new Int32Array(bs).map((_, i) => i % 10),
  n: bs,
  height: hw,
  width: hw,
  channels: 3,
};
e.trainStep(batch, 0.05);
const t0 = performance.now();
const prof = await tf.profile(() => {
  e.trainStep(batch, 0.05);
});
const wall = performance.now() - t0;
const agg = new Map<string, { ms: number; n: number }>();
for (const k of prof.kernels) {
  const a = agg.get(k.name) ?? { ms: 0, n: 0 };
  a.ms += k.kernelTimeMs as number;
  a.n++;
  agg.set(k.name, a);
}
const rows = [...agg.entries()].sort((a, b) => b[1].ms - a[1].ms);
let tot = 0;
for (const [, a] of rows) tot += a.ms;
console.log('wall', wall.toFixed(0), 'kernel total', tot.toFixed(0), 'kernels', prof.kernels.length);
for (const [n, a] of rows.slice(0, 20)) console.log(n.padEnd(22), a.ms.toFixed(1).padStart(8), a.n);
