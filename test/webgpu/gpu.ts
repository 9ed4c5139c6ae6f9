/**
 * Shared set-up of the webgpu tests: one Dawn start per test file, cpu references,
 * and a clean skip (with the reason) where no WebGPU adapter exists.
 */
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '../../src/backend/cpu.js';
import type { TestContext } from 'node:test';
import { convOutSize } from '../../src/backend/ops/conv2d.js';
import {
  initWebgpuBackend,
  registerWebgpuOps,
  type WebgpuInitResult,
} from '../../src/backend/webgpu/index.js';

/** Max |a−b| / max |ref|: the tolerance the webgpu kernels are held to against the cpu backend. */
export const TOLERANCE = 1e-5;

let started: Promise<WebgpuInitResult> | null = null;

/** Start webgpu once per process (our kernels registered); later calls reuse the result. */
export function webgpu(): Promise<WebgpuInitResult> {
  started ??= initWebgpuBackend().then((res) => {
    if (res.ok) registerWebgpuOps();
    return res;
  });
  return started;
}

/** Make `webgpu` active, or skip the test with the reason (fail it under WTRAIN_REQUIRE_WEBGPU=1). Returns false when skipped. */
export async function useWebgpu(t: TestContext): Promise<boolean> {
  const res = await webgpu();
  if (!res.ok) {
    const why = `no WebGPU adapter: ${res.reason.split('\n')[0]}`;
    // bench-gpu.sh check: on the GPU node a missing adapter is a failure, not a skip.
    if (process.env.WTRAIN_REQUIRE_WEBGPU === '1') assert.fail(why);
    t.skip(`${why} (see scripts/ci/install-lavapipe.sh)`);
    return false;
  }
  await tf.setBackend('webgpu');
  return true;
}

/** Run `fn` on the cpu backend and read its result back, then return to webgpu. */
export async function onCpu(fn: () => tf.Tensor): Promise<Float32Array> {
  await tf.setBackend('cpu');
  const out = tf.tidy(fn);
  const data = (await out.data()) as Float32Array;
  out.dispose();
  await tf.setBackend('webgpu');
  return data;
}

/** Run `fn` on webgpu and read its result back (`data()`, never `dataSync()`). */
export async function onGpu(fn: () => tf.Tensor): Promise<{ data: Float32Array; shape: number[] }> {
  const out = tf.tidy(fn);
  const data = (await out.data()) as Float32Array;
  const shape = out.shape;
  out.dispose();
  return { data, shape };
}

/**
 * `run` on the cpu backend (the reference), then on webgpu, where it must leave the
 * tensor count as it found it. Ends on webgpu.
 */
export async function onCpuThenGpu<T>(run: () => Promise<T>): Promise<{ want: T; got: T }> {
  await tf.setBackend('cpu');
  const want = await run();
  await tf.setBackend('webgpu');
  const before = tf.memory().numTensors;
  const got = await run();
  assert.equal(tf.memory().numTensors, before, 'webgpu: tensors leaked');
  return { want, got };
}

/**
 * `op` on the cpu backend (the reference), then on webgpu, each on fresh `inputs()`.
 * On webgpu the op runs without tf.tidy, so a tensor it forgets counts as a leak, and
 * it must run `kernel` (tf.profile's kernel names): a silent fallback to the generic tf
 * ops fails. Ends on webgpu.
 */
export async function opOnCpuAndGpu(
  inputs: () => tf.Tensor[],
  op: (...xs: tf.Tensor[]) => tf.Tensor,
  kernel: string,
): Promise<{ want: Float32Array; got: Float32Array; shape: number[] }> {
  const run = async (check: boolean) => {
    const xs = inputs();
    const before = tf.memory().numTensors;
    let out: tf.Tensor | undefined;
    const { kernelNames } = await tf.profile(() => {
      out = op(...xs);
      return out;
    });
    const y = out as tf.Tensor;
    const data = (await y.data()) as Float32Array;
    const shape = y.shape;
    y.dispose();
    if (check) {
      assert.equal(tf.memory().numTensors, before, `${kernel}: tensors leaked`);
      assert.ok(kernelNames.includes(kernel), `${kernel} did not run (ran: ${kernelNames.join(', ')})`);
    }
    tf.dispose(xs);
    return { data, shape };
  };
  await tf.setBackend('cpu');
  const want = await run(false);
  await tf.setBackend('webgpu');
  const got = await run(true);
  return { want: want.data, got: got.data, shape: got.shape };
}

export type Shape4 = [number, number, number, number];

/** One conv layer shape for the conv kernel tests: input x (NHWC), k×k filter to co channels. */
export interface ConvCase {
  x: Shape4;
  k: number;
  co: number;
  stride: number;
  pad: number;
  why: string;
}

/** The conv's output (= dy) shape. */
export function convOutShape(c: ConvCase): Shape4 {
  const out = (n: number) => convOutSize(n, c.k, c.stride, c.pad);
  return [c.x[0], out(c.x[1]), out(c.x[2]), c.co];
}

export const convLabel = (c: ConvCase) => `[${c.x}] k${c.k} co${c.co} s${c.stride} p${c.pad} (${c.why})`;
