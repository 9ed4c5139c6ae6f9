/**
 * The input batch's normalisation on webgpu (benchmark, not a test): host ms for one
 * batch converted to floats on the host and uploaded (the trainer's previous loop, the
 * baseline, and the unrolled one cpu/wasm use), against its bytes uploaded and
 * normalised on the device (src/backend/ops/normalize_images.ts), at bench-gpu's batch
 * shapes and at 224 px (batch 64: 128 MiB is lavapipe's limit on one tensor). Host time is the call plus the upload tfjs would otherwise defer
 * to the first kernel (the GPU idle); on a fast GPU it adds to the host's floor under
 * every training step. Variants interleaved round by round.
 *
 *   node --import tsx scripts/bench-input.ts [--reps 7]
 */
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { hostNormalizeImages, type NormalizeImagesFn } from '../src/backend/ops/normalize_images.js';
import { webgpuFinish } from '../src/backend/webgpu/index.js';
import { webgpuNormalizeImages } from '../src/backend/webgpu/normalize_images.js';
import { syntheticBatch } from '../src/data/synthetic.js';
import { uploadNow } from './bench-gpu/dispatches.js';
import { webgpuOrExit } from './bench-gpu/trainer.js';
import { f1, median, table } from './stats.js';

const { values: args } = parseArgs({ options: { reps: { type: 'string', default: '7' } } });
const reps = Math.max(1, Number(args.reps));
const adapter = await webgpuOrExit('bench-input');
console.log(`adapter: ${adapter}; median of ${reps} after a warm-up, variants interleaved`);

const SCALE = [0.25, 0.24, 0.26].map((s) => 1 / (255 * s));
const SHIFT = [0.49 / 0.25, 0.48 / 0.24, 0.45 / 0.26];
/** The trainer's loop before normalize_images.ts (commit 29b1183's src/train/input.ts), the baseline. */
const previousLoop: NormalizeImagesFn = (bytes, shape, scale, shift) => {
  const channels = shape[3];
  const out = new Float32Array(bytes.length);
  for (let i = 0, c = 0; i < out.length; i++) {
    out[i] = bytes[i] * scale[c] - shift[c];
    if (++c === channels) c = 0;
  }
  return tf.tensor4d(out, shape);
};
const variants: Array<[string, NormalizeImagesFn]> = [
  ['previous host loop + upload', previousLoop],
  ['floats on the host (unrolled) + upload', hostNormalizeImages],
  ['bytes uploaded, normalised on the device', webgpuNormalizeImages],
];
const rows: Array<Array<string | number>> = [];
for (const [n, size] of [
  [128, 32],
  [512, 32],
  [128, 112],
  [64, 224],
] as const) {
  const batch = syntheticBatch(n, size, 1);
  const shape: [number, number, number, number] = [n, size, size, 3];
  const host = variants.map(() => [] as number[]);
  for (let r = 0; r <= reps; r++) {
    for (let v = 0; v < variants.length; v++) {
      const t = performance.now();
      const x = uploadNow(variants[v][1](batch.x, shape, SCALE, SHIFT));
      const ms = performance.now() - t;
      await webgpuFinish();
      x.dispose();
      if (r > 0) host[v].push(ms);
    }
  }
  variants.forEach(([name], v) => {
    rows.push([`${n}x${size}x${size}x3`, name, f1(median(host[v])), f1(Math.min(...host[v]))]);
  });
}
console.log(table(['batch', 'variant', 'host ms (median)', 'min'], rows));
process.exit(0);
