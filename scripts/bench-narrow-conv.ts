/**
 * The narrow-layer conv kernel (src/backend/webgpu/conv2d_narrow.ts) against tfjs's
 * programs at one layer shape, forward and dx (benchmark, not a test): ms per call, the
 * four variants interleaved round by round, median over rounds. On lavapipe this times
 * the CPU running the shaders; bench-gpu's per-layer table is the GPU measurement.
 *
 *   node --import tsx scripts/bench-narrow-conv.ts [--x 16,32,32,16] [--k 3] [--co 16] [--rounds 3] [--reps 5]
 */
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { stockConv2dInputGrad } from '../src/backend/ops/conv2d_input_grad.js';
import {
  narrowForward,
  narrowInputGrad,
  webgpuNarrowConv2d,
  webgpuNarrowConv2dInputGrad,
} from '../src/backend/webgpu/conv2d_narrow.js';
import { webgpuFinish } from '../src/backend/webgpu/index.js';
import { webgpuOrExit } from './bench-gpu/trainer.js';
import { f1, median, table } from './stats.js';

const { values: args } = parseArgs({
  options: {
    x: { type: 'string', default: '16,32,32,16' },
    k: { type: 'string', default: '3' },
    co: { type: 'string', default: '16' },
    rounds: { type: 'string', default: '3' },
    reps: { type: 'string', default: '5' },
  },
});
const xShape = args.x.split(',').map(Number) as [number, number, number, number];
const k = Number(args.k);
const filterShape: [number, number, number, number] = [k, k, xShape[3], Number(args.co)];
const pad = (k - 1) / 2;

const adapter = await webgpuOrExit('bench-narrow-conv');
if (!narrowForward(xShape, filterShape, 1, pad) || !narrowInputGrad(xShape, filterShape, 1, pad)) {
  console.error('bench-narrow-conv: the narrow kernel does not cover this shape (channels < 32, stride 1)');
  process.exit(1);
}
const x = tf.randomNormal(xShape) as tf.Tensor4D;
const w = tf.randomNormal(filterShape) as tf.Tensor4D;
const dy = tf.randomNormal([xShape[0], xShape[1], xShape[2], filterShape[3]]) as tf.Tensor4D;
const variants: Array<[string, () => tf.Tensor]> = [
  ['forward, tfjs', () => tf.conv2d(x, w, 1, pad)],
  ['forward, narrow', () => webgpuNarrowConv2d(x, w, 1, pad)],
  ['dx, tfjs mm', () => stockConv2dInputGrad(dy, w, xShape, 1, pad)],
  ['dx, narrow', () => webgpuNarrowConv2dInputGrad(dy, w, xShape, 1, pad)],
];
const reps = Number(args.reps);
const times = variants.map(() => [] as number[]);
for (let r = 0; r <= Number(args.rounds); r++) {
  for (const [v, [, fn]] of variants.entries()) {
    tf.dispose(fn());
    await webgpuFinish();
    const t = performance.now();
    for (let i = 0; i < reps; i++) tf.dispose(fn());
    await webgpuFinish();
    if (r > 0) times[v].push((performance.now() - t) / reps); // round 0: compile and warm up
  }
}
tf.dispose([x, w, dy]);
console.log(`adapter: ${adapter}; x=[${xShape}], filter [${filterShape}], stride 1, pad ${pad}`);
console.log(
  table(
    ['kernel', 'ms per call (median)', 'range'],
    variants.map(([name], v) => [
      name,
      f1(median(times[v])),
      `${f1(Math.min(...times[v]))}-${f1(Math.max(...times[v]))}`,
    ]),
  ),
);
process.exit(0);
