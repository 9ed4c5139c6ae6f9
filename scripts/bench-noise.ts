/**
 * WM's mirror noise (benchmark, not a test): the host generator's speed (what cpu and
 * wasm pay per sample), and on webgpu the host time one mirror step's draws cost with
 * the noise drawn on the host and uploaded, or drawn on the device (recording only: the
 * call returns before the GPU runs; wall time to finish is shown too). One draw per
 * distinct feedback-layer input shape at the default mirror batch, as src/rules/wm.ts does.
 *
 *   node --import tsx scripts/bench-noise.ts [--reps 5] [--no-gpu]
 *
 * With --no-gpu it imports only the generator, so a copy of it runs on older checkouts
 * too (the baseline in docs/gpu.md).
 */
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import type { NormalNoiseFn } from '../src/backend/ops/normal_noise.js';
import { fastNormalArray } from '../src/util/ziggurat.js';
import { f1, median, table } from './stats.js';

const { values: args } = parseArgs({
  options: { reps: { type: 'string', default: '5' }, 'no-gpu': { type: 'boolean', default: false } },
});
const reps = Math.max(1, Number(args.reps));

const gen: number[] = [];
for (let r = 0; r <= reps; r++) {
  const t = performance.now();
  fastNormalArray(4_000_000, r);
  if (r > 0) gen.push((1e6 * (performance.now() - t)) / 4_000_000);
}
console.log(
  `host generator: ${f1(median(gen))} ns/sample (median of ${reps} x 4M; range ${f1(Math.min(...gen))}-${f1(Math.max(...gen))})`,
);

const gpu = args['no-gpu'] ? null : await import('../src/backend/webgpu/index.js');
const init = gpu ? await gpu.initWebgpuBackend() : null;
if (gpu && init?.ok) {
  const { registerWebgpuOps, webgpuFinish } = gpu;
  const { hostNormalNoise } = await import('../src/backend/ops/normal_noise.js');
  const { webgpuNormalNoise } = await import('../src/backend/webgpu/normal_noise.js');
  const { uploadNow } = await import('./bench-gpu/dispatches.js');
  const { buildTrainer, mirrorNoiseShapes } = await import('./bench-gpu/trainer.js');
  registerWebgpuOps();
  console.log(`adapter: ${init.adapter}`);
  const rows: Array<Array<string | number>> = [];
  for (const [arch, size] of [
    ['resnet18', 32],
    ['resnet18', 224],
  ] as const) {
    const trainer = await buildTrainer({ arch, width: 1, batch: 2, size, label: arch }, 'bp');
    const shapes = mirrorNoiseShapes(trainer);
    trainer.dispose();
    const samples = shapes.reduce((a, s) => a + tf.util.sizeFromShape(s), 0);
    const variants: Array<[string, NormalNoiseFn]> = [
      ['host + upload', hostNormalNoise],
      ['device', webgpuNormalNoise],
    ];
    const stats = variants.map(() => ({ host: [] as number[], wall: [] as number[] }));
    for (let r = 0; r <= reps; r++) {
      for (let v = 0; v < variants.length; v++) {
        const t = performance.now();
        // tf.tensor() on webgpu only keeps the values; the upload happens when a kernel
        // first reads them, as WM's mirror step does at once: make it happen here.
        const out = shapes.map((s, i) => uploadNow(variants[v][1](s, 1000 * r + i, 1)));
        const host = performance.now() - t;
        await webgpuFinish();
        const wall = performance.now() - t;
        tf.dispose(out);
        if (r === 0) continue; // warm-up: pipelines, buffers
        stats[v].host.push(host);
        stats[v].wall.push(wall);
      }
    }
    variants.forEach(([name], v) => {
      rows.push([`${arch} ${size}px`, samples, name, f1(median(stats[v].host)), f1(median(stats[v].wall))]);
    });
  }
  console.log(
    table(
      ['net', 'samples per mirror step', 'variant', 'host ms (median)', 'ms to GPU finish (median)'],
      rows,
    ),
  );
} else if (init && !init.ok) {
  console.log(`no webgpu: ${init.reason.split('\n')[0]}`);
}
process.exit(0);
