/**
 * Counts compute dispatches and buffer creations at Dawn's API (every kernel: tfjs's
 * programs and ours), to report how many a training step records. Host time per
 * dispatch (tfjs + Dawn, ~0.1-0.2 ms) is what bounds small steps on a fast GPU.
 */
import * as tf from '@tensorflow/tfjs-core';
import { globals } from 'webgpu';

const counts = { dispatches: 0, buffers: 0 };
let installed = false;
/** False when a counter could not be installed: the totals are then NaN (shown as '–'), never a believable 0. */
let counting = true;

type Method = (...args: unknown[]) => unknown;

function countCalls(
  proto: Record<string, unknown> | undefined,
  method: string,
  key: keyof typeof counts,
): void {
  const original = proto?.[method] as Method | undefined;
  if (!proto || !original) {
    counting = false;
    return;
  }
  proto[method] = function (this: unknown, ...args: unknown[]) {
    counts[key]++;
    return original.apply(this, args);
  };
}

/** Running totals since the process started counting (installs the counters once). */
export function dawnCounts(): Readonly<typeof counts> {
  if (!installed) {
    installed = true;
    const g = globals as Record<string, { prototype: Record<string, unknown> } | undefined>;
    countCalls(g.GPUComputePassEncoder?.prototype, 'dispatchWorkgroups', 'dispatches');
    countCalls(g.GPUDevice?.prototype, 'createBuffer', 'buffers');
  }
  return counting ? { ...counts } : { dispatches: Number.NaN, buffers: Number.NaN };
}

/**
 * Upload `t` to its GPU buffer now. tf.tensor() on webgpu only keeps the values; the
 * upload happens when a kernel first reads them, so a benchmark of host-made tensors
 * forces it inside the timed region.
 */
export function uploadNow<T extends { dataId: object }>(t: T): T {
  (tf.backend() as unknown as { uploadToGPU(dataId: object): void }).uploadToGPU(t.dataId);
  return t;
}
