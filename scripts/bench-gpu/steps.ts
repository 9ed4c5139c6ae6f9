/** Median training-step time of a Trainer, its kernel profile, and tuning variants. */
import * as tf from '@tensorflow/tfjs-core';
import { hostCacheStats } from '../../src/backend/webgpu/host_caches.js';
import { webgpuFinish, webgpuThrottle } from '../../src/backend/webgpu/index.js';
import { gpuMemory, releaseFreeBuffers, resetPeakGpuMemory } from '../../src/backend/webgpu/memory.js';
import type { WebGPUBackend } from '../../src/backend/webgpu/program.js';
import type { Batch } from '../../src/data/types.js';
import type { Trainer } from '../../src/train/types.js';
import { median } from '../stats.js';
import { dawnCounts } from './dispatches.js';
import type { AnyRule, NetConfig } from './options.js';
import { buildTrainer, syntheticBatch } from './trainer.js';

export interface StepTiming {
  /** Median of per-step times, each step waited for (await of one scalar). */
  medianMs: number;
  /** Mean over `steps` back-to-back steps, ≤ 2 queued at a time (webgpuThrottle), as in training. */
  pipelinedMs: number;
  /** First step: pipeline compilation included. */
  firstMs: number;
  imgPerSec: number;
  /** Median time of the trainStep() call alone: the host's share (tfjs + Dawn recording). */
  hostMs: number;
  /** Compute dispatches and new GPU buffers per step. */
  dispatches: number;
  buffersCreated: number;
  /** Share of the timed steps' bind groups the host caches reused (NaN when they are off). */
  bindGroupReuse: number;
  /** Live tensors after the timed steps minus before (0 = flat). */
  tensorDelta: number;
  lossFinite: boolean;
}

export interface StepRow extends StepTiming {
  net: string;
  rule: AnyRule;
  batch: number;
  variant: string;
  /**
   * Peak bytes of tfjs-webgpu's buffer pool over the row (build, warm-up, timed steps), in
   * MiB: `used` = buffers held by tensors (tf.memory().numBytesInGPU; PyTorch's
   * max_memory_allocated), `allocated` = the pool with its free buffers (max_memory_reserved).
   * The pool's free buffers are destroyed before each row (src/backend/webgpu/memory.ts).
   */
  peakUsedMb?: number;
  peakAllocatedMb?: number;
}

const LR = 0.05;

/** Bind groups the host caches reused and made so far (zeros when not installed). */
function bindGroupCounts(): { reused: number; made: number } {
  const cache = hostCacheStats(tf.backend() as unknown as WebGPUBackend);
  return { reused: cache?.bindGroupHits ?? 0, made: cache?.bindGroupMisses ?? 0 };
}

/**
 * One trainStep(): host ms of the call (tfjs + Dawn recording), what it recorded at
 * Dawn's API, and the bind groups the host caches reused or made for it (both 0 when
 * the caches are off).
 */
export function countedStep(
  trainer: Trainer,
  batch: Batch,
  lr: number,
): { hostMs: number; dispatches: number; buffers: number; groupsReused: number; groupsMade: number } {
  const before = dawnCounts();
  const groups = bindGroupCounts();
  const t = performance.now();
  trainer.trainStep(batch, lr);
  const hostMs = performance.now() - t;
  const after = dawnCounts();
  const groupsAfter = bindGroupCounts();
  return {
    hostMs,
    dispatches: after.dispatches - before.dispatches,
    buffers: after.buffers - before.buffers,
    groupsReused: groupsAfter.reused - groups.reused,
    groupsMade: groupsAfter.made - groups.made,
  };
}

export async function timeSteps(
  trainer: Trainer,
  batch: Batch,
  warmup: number,
  steps: number,
): Promise<StepTiming> {
  let t = performance.now();
  trainer.trainStep(batch, LR);
  await trainer.lossIsFinite();
  const firstMs = performance.now() - t;
  for (let i = 1; i < warmup; i++) {
    trainer.trainStep(batch, LR);
    await trainer.settle(); // a step boundary, as in training (host_caches.ts: canonicalBufferOrder)
    await trainer.lossIsFinite();
  }
  const before = tf.memory().numTensors;
  const times: number[] = [];
  const host: number[] = [];
  let [dispatches, buffers, reused, made] = [0, 0, 0, 0];
  for (let i = 0; i < steps; i++) {
    t = performance.now();
    const c = countedStep(trainer, batch, LR);
    host.push(c.hostMs);
    dispatches += c.dispatches;
    buffers += c.buffers;
    reused += c.groupsReused;
    made += c.groupsMade;
    await trainer.settle();
    await trainer.lossIsFinite();
    times.push(performance.now() - t);
  }
  t = performance.now();
  for (let i = 0; i < steps; i++) {
    trainer.trainStep(batch, LR);
    await webgpuThrottle();
  }
  const lossFinite = await trainer.lossIsFinite();
  const pipelinedMs = (performance.now() - t) / steps;
  const medianMs = median(times);
  return {
    medianMs,
    pipelinedMs,
    firstMs,
    imgPerSec: (batch.n * 1000) / Math.min(medianMs, pipelinedMs),
    hostMs: median(host),
    dispatches: dispatches / steps,
    buffersCreated: buffers / steps,
    bindGroupReuse: reused / (reused + made),
    tensorDelta: tf.memory().numTensors - before,
    lossFinite,
  };
}

/** Before another process uses this GPU (PyTorch, `wtrain run`): the memory this one's pool keeps free. */
export async function givePoolBack(): Promise<void> {
  await webgpuFinish();
  releaseFreeBuffers(tf.backend() as unknown as WebGPUBackend);
}

/** Build, time and dispose one trainer; with the buffer pool's peak bytes over it. */
export async function benchStep(
  net: NetConfig,
  rule: AnyRule,
  warmup: number,
  steps: number,
  variant = 'default',
): Promise<StepRow> {
  const backend = tf.backend() as unknown as WebGPUBackend;
  await webgpuFinish();
  releaseFreeBuffers(backend);
  resetPeakGpuMemory(backend);
  const trainer = await buildTrainer(net, rule);
  try {
    const batch = syntheticBatch(net.batch, net.size, 1, 3, net.classes ?? 10);
    const timing = await timeSteps(trainer, batch, warmup, steps);
    const mem = gpuMemory(backend);
    return {
      net: net.label,
      rule,
      batch: net.batch,
      variant,
      ...timing,
      peakUsedMb: mem.peakUsedBytes / 2 ** 20,
      peakAllocatedMb: mem.peakAllocatedBytes / 2 ** 20,
    };
  } finally {
    trainer.dispose();
  }
}

export interface KernelStat {
  name: string;
  count: number;
  totalMs: number;
}

export interface StepProfile {
  net: string;
  rule: AnyRule;
  dispatches: number;
  kernelMs: number;
  top: KernelStat[];
}

/** One profiled step (GPU timestamp per kernel): time and dispatch count by kernel name. */
export async function profileStep(net: NetConfig, rule: AnyRule, topN = 12): Promise<StepProfile> {
  const trainer = await buildTrainer(net, rule);
  try {
    const batch = syntheticBatch(net.batch, net.size, 2, 3, net.classes ?? 10);
    trainer.trainStep(batch, LR);
    await trainer.lossIsFinite();
    const info = await tf.profile(() => {
      trainer.trainStep(batch, LR);
    });
    const byName = new Map<string, KernelStat>();
    let kernelMs = 0;
    for (const k of info.kernels) {
      const ms = Number(k.kernelTimeMs) || 0;
      kernelMs += ms;
      const s = byName.get(k.name) ?? { name: k.name, count: 0, totalMs: 0 };
      s.count++;
      s.totalMs += ms;
      byName.set(k.name, s);
    }
    const top = [...byName.values()].sort((a, b) => b.totalMs - a.totalMs).slice(0, topN);
    return { net: net.label, rule, dispatches: info.kernels.length, kernelMs, top };
  } finally {
    trainer.dispose();
  }
}
