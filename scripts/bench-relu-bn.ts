/**
 * The fused after_relu unit (ReLU read inside BatchNorm's kernels) against ReLU and
 * BatchNorm as separate kernels, on the wasm backend: step time (interleaved rounds)
 * and peak tensor memory of one step (tf.profile).
 *
 *   node --import tsx scripts/bench-relu-bn.ts [arch=resnet20] [batch=128] [rounds=8] [threads=1]
 */
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../src/backend/index.js';
import { registerOpImpl } from '../src/backend/ops/registry.js';
import { wasmReluBatchNormTrain, wasmReluBatchNormTrainGrad } from '../src/backend/wasm/simd/batch_norm.js';
import type { ModelConfig } from '../src/models/config.js';
import { buildTrainer, syntheticBatch } from './bench-gpu/trainer.js';
import { median } from './stats.js';

const [arch = 'resnet20', bs = '128', rounds = '8', threads = '1'] = process.argv.slice(2);
await initBackend({ name: 'wasm', threads: Number(threads) });
const net = { arch: arch as ModelConfig['arch'], width: 1, batch: Number(bs), size: 32, label: arch };
const engine = await buildTrainer(net, 'bp');
const batch = syntheticBatch(Number(bs), 32, 1);
const use = (fused: boolean) => {
  registerOpImpl('reluBatchNormTrain', 'wasm', fused ? wasmReluBatchNormTrain : undefined);
  registerOpImpl('reluBatchNormTrainGrad', 'wasm', fused ? wasmReluBatchNormTrainGrad : undefined);
};
const variants = [
  ['fused', true],
  ['separate', false],
] as const;
for (const [, fused] of variants) {
  use(fused);
  engine.trainStep(batch, 0.01);
}
const times: Record<string, number[]> = { fused: [], separate: [] };
for (let r = 0; r < Number(rounds); r++) {
  // alternate which goes first, so neither always runs on a machine just warmed by the other
  for (const [name, fused] of r % 2 ? [...variants].reverse() : variants) {
    use(fused);
    const t0 = performance.now();
    engine.trainStep(batch, 0.01);
    times[name].push(performance.now() - t0);
  }
}
console.log(`${arch} b${bs} BP, wasm ${threads} thread(s), ${rounds} interleaved rounds`);
for (const [name, fused] of variants) {
  use(fused);
  const p = await tf.profile(() => engine.trainStep(batch, 0.01));
  const t = times[name];
  console.log(
    `${name.padEnd(8)} median ${median(t).toFixed(0)} ms (${Math.min(...t).toFixed(0)}-${Math.max(...t).toFixed(0)}), ` +
      `peak ${(p.peakBytes / 2 ** 20).toFixed(0)} MiB, ${p.kernels.length} kernels`,
  );
}
const ratios = times.fused.map((f, i) => f / times.separate[i]);
console.log(`fused/separate per round: ${ratios.map((x) => x.toFixed(2)).join(' ')}`);
