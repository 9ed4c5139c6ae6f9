/**
 * Per-layer conv kernels at a net's real shapes: filter gradient (stock tfjs vs the
 * split-K kernel), input gradient (tfjs's naive vs matmul program), forward conv.
 */
import * as tf from '@tensorflow/tfjs-core';
import { convOutSize } from '../../src/backend/ops/conv2d.js';
import { stockConv2dFilterGrad } from '../../src/backend/ops/conv2d_filter_grad.js';
import { stockConv2dInputGrad } from '../../src/backend/ops/conv2d_input_grad.js';
import { webgpuConv2dFilterGrad } from '../../src/backend/webgpu/conv2d_filter_grad.js';
import { registerWebgpuOps, webgpuFinish } from '../../src/backend/webgpu/index.js';
import type { ConvLayerShape } from './trainer.js';

export interface ConvKernelRow {
  layer: string;
  x: number[];
  filter: number[];
  stride: number;
  gflop: number;
  filterGradStockMs: number | null;
  filterGradOursMs: number;
  inputGradNaiveMs: number;
  inputGradMmMs: number;
  forwardMs: number;
}

/** Mean ms of `reps` runs of `fn` after one warm-up (outputs disposed, GPU waited for). */
async function timeOp(fn: () => tf.Tensor, reps: number): Promise<number> {
  tf.dispose(fn());
  await webgpuFinish();
  const t = performance.now();
  for (let i = 0; i < reps; i++) tf.dispose(fn());
  await webgpuFinish();
  return (performance.now() - t) / reps;
}

function outDims(l: ConvLayerShape): [number, number] {
  const [h, w] = l.inputShape;
  const k = l.filterShape[0];
  const o = (n: number) => convOutSize(n, k, l.stride, l.pad);
  return [o(h), o(w)];
}

/** Distinct (input, filter, stride) shapes of `layers` at batch `n`, each timed. */
export async function benchConvKernels(
  layers: ConvLayerShape[],
  n: number,
  reps: number,
  stockLimitGflop = 5,
): Promise<ConvKernelRow[]> {
  const seen = new Set<string>();
  const rows: ConvKernelRow[] = [];
  for (const l of layers) {
    const xShape = [n, ...l.inputShape] as [number, number, number, number];
    const key = `${xShape}|${l.filterShape}|${l.stride}|${l.pad}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const [ho, wo] = outDims(l);
    const dyShape: [number, number, number, number] = [n, ho, wo, l.filterShape[3]];
    const gflop = (2 * n * ho * wo * l.filterShape.reduce((a, b) => a * b, 1)) / 1e9;
    const x = tf.randomNormal(xShape) as tf.Tensor4D;
    const dy = tf.randomNormal(dyShape) as tf.Tensor4D;
    const w = tf.randomNormal(l.filterShape) as tf.Tensor4D;
    const f = l.filterShape;
    const s = l.stride;
    const p = l.pad;
    // tfjs's stock filter gradient takes ~80 ms per GFLOP on an H100: timed on small layers only.
    const filterGradStockMs =
      gflop <= stockLimitGflop ? await timeOp(() => stockConv2dFilterGrad(x, dy, f, s, p), 1) : null;
    const filterGradOursMs = await timeOp(() => webgpuConv2dFilterGrad(x, dy, f, s, p), reps);
    registerWebgpuOps({ inputGrad: 'naive' });
    const inputGradNaiveMs = await timeOp(() => stockConv2dInputGrad(dy, w, xShape, s, p), reps);
    registerWebgpuOps({ inputGrad: 'mm' });
    const inputGradMmMs = await timeOp(() => stockConv2dInputGrad(dy, w, xShape, s, p), reps);
    registerWebgpuOps();
    const forwardMs = await timeOp(() => tf.conv2d(x, w, s, p), reps);
    tf.dispose([x, dy, w]);
    rows.push({
      layer: l.name,
      x: xShape,
      filter: [...f],
      stride: s,
      gflop,
      filterGradStockMs,
      filterGradOursMs,
      inputGradNaiveMs,
      inputGradMmMs,
      forwardMs,
    });
  }
  return rows;
}
