/**
 * The host-side caches (src/backend/webgpu/host_caches.ts): a cached bind group or
 * uniform buffer is only handed out for exactly what it was made for, caches stay
 * bounded, training with them equals training without them bit for bit, and with the
 * buffer pool put in a fixed order at step boundaries a step reuses nearly all of the
 * last step's bind groups.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import {
  type HostCacheStats,
  hostCacheStats,
  setHostCacheCaps,
  setHostCaches,
} from '../../src/backend/webgpu/host_caches.js';
import { registerWebgpuOps } from '../../src/backend/webgpu/index.js';
import type { ProgramUniforms, WebGPUBackend } from '../../src/backend/webgpu/program.js';
import { fakeBatch, smallEngine } from '../helpers.js';
import { useWebgpu } from './gpu.js';

interface Internals {
  device: GPUDevice;
  makeUniforms(u: ProgramUniforms): GPUBufferBinding;
  uniformPendingDisposal: GPUBuffer[];
}

const internals = () => tf.backend() as unknown as Internals;

function probePipeline(device: GPUDevice): GPUComputePipeline {
  const code = `@group(0) @binding(0) var<storage, read_write> a : array<f32>;
@group(0) @binding(1) var<uniform> u : vec4<f32>;
@compute @workgroup_size(1) fn main() { a[0] = u.x; }`;
  return device.createComputePipeline({
    layout: 'auto',
    compute: { module: device.createShaderModule({ code }), entryPoint: 'main' },
  });
}

test('bind groups: the same layout and buffer ranges give the same object, anything else a new one', async (t) => {
  if (!(await useWebgpu(t))) return;
  const { device } = internals();
  const pipeline = probePipeline(device);
  assert.equal(
    pipeline.getBindGroupLayout(0),
    pipeline.getBindGroupLayout(0),
    'layout memoised per pipeline',
  );
  assert.notEqual(probePipeline(device).getBindGroupLayout(0), pipeline.getBindGroupLayout(0));
  const storage = () => device.createBuffer({ size: 512, usage: GPUBufferUsage.STORAGE });
  const [a, b] = [storage(), storage()];
  const u = device.createBuffer({ size: 512, usage: GPUBufferUsage.UNIFORM });
  const group = (buf: GPUBuffer, offset = 0, size?: number) =>
    device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: [
        { binding: 0, resource: { buffer: buf } },
        { binding: 1, resource: { buffer: u, offset, size } },
      ],
    });
  try {
    assert.equal(group(a), group(a));
    assert.notEqual(group(b), group(a), 'another buffer');
    assert.notEqual(group(a, 256), group(a), 'another offset');
    assert.notEqual(group(a, 0, 16), group(a), 'another size');
    setHostCaches(false);
    assert.notEqual(group(a), group(a), 'caches off: a new bind group every time');
  } finally {
    setHostCaches(true);
  }
  assert.throws(() => setHostCacheCaps({ bindGroups: 0 }), /≥ 1/);
  const before = setHostCacheCaps({ bindGroups: 2 });
  try {
    const first = group(a, 0, 16);
    group(a, 0, 32);
    group(a, 0, 48); // evicts the least recently used: (a, 0, 16)
    assert.notEqual(group(a, 0, 16), first, 'evicted from the LRU');
  } finally {
    setHostCacheCaps(before);
  }
  for (const buf of [a, b, u]) buf.destroy();
});

test('uniforms: a content seen twice gets one write-once buffer kept out of the pool; the LRU gives it back', async (t) => {
  if (!(await useWebgpu(t))) return;
  const be = internals();
  const stats = hostCacheStats(tf.backend() as unknown as WebGPUBackend) as HostCacheStats;
  const u = (type: 'int32' | 'float32', ...data: number[]): ProgramUniforms => [
    { type: 'int32', data: [4, 8] },
    { type, data },
  ];
  const pooled = (b: GPUBufferBinding) => be.uniformPendingDisposal.includes(b.buffer);
  /** Make `x` cached (first sight goes through tfjs's pool) and return its buffer. */
  const cache = (x: ProgramUniforms) => {
    assert.ok(pooled(be.makeUniforms(x)), 'first sight: tfjs pooled buffer');
    const binding = be.makeUniforms(x);
    assert.ok(!pooled(binding), 'a cached buffer must never return to the pool');
    return binding.buffer;
  };
  const first = cache(u('float32', 0.5, 1));
  assert.equal(be.makeUniforms(u('float32', 0.5, 1)).buffer, first);
  const distinct = [u('float32', 0.5, 2), u('int32', 0.5, 1), u('float32', -0, 1), u('float32', 0, 1)].map(
    cache,
  );
  assert.equal(new Set([first, ...distinct]).size, 5, 'value, type and the sign of zero all count');
  const before = setHostCacheCaps({ uniforms: 1 }); // evicts all but the last
  try {
    assert.ok(be.uniformPendingDisposal.includes(first), 'evicted buffers handed back to tfjs');
    const kept = cache(u('float32', 7));
    cache(u('float32', 8)); // evicts `kept`
    assert.ok(be.uniformPendingDisposal.includes(kept));
    const misses = stats.uniformMisses;
    be.makeUniforms(u('float32', 8));
    assert.equal(stats.uniformMisses, misses, 'still cached');
    be.makeUniforms(u('float32', 7));
    assert.equal(stats.uniformMisses, misses + 1, 'evicted content is made again');
  } finally {
    setHostCacheCaps(before);
  }
});

test('training with the host caches = without them, bit for bit (also with tiny LRUs); after warm-up a step reuses ≥ 95 % of its bind groups', async (t) => {
  if (!(await useWebgpu(t))) return;
  const batches = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((i) => fakeBatch(4, 8, i));
  const stats = hostCacheStats(tf.backend() as unknown as WebGPUBackend);
  assert.ok(stats, 'caches installed by initWebgpuBackend');
  const run = async (hostCaches: 'on' | 'off') => {
    registerWebgpuOps({ hostCaches });
    const engine = smallEngine({ rule: { name: 'kp' } });
    let reused = 0;
    let made = 0;
    for (const [i, batch] of batches.entries()) {
      const [h, m] = [stats.bindGroupHits, stats.bindGroupMisses];
      engine.trainStep(batch, 0.1);
      await engine.settle();
      if (i >= batches.length - 3) {
        reused += stats.bindGroupHits - h;
        made += stats.bindGroupMisses - m;
      }
    }
    const state = engine.getState().tensors;
    const out: Record<string, number[]> = {};
    for (const [k, v] of Object.entries(state)) out[k] = Array.from(await v.data());
    tf.dispose(Object.values(state));
    engine.dispose();
    return { out, reused, made };
  };
  try {
    const off = await run('off');
    assert.equal(off.reused + off.made, 0, 'caches off: not consulted');
    const on = await run('on');
    const rate = on.reused / (on.reused + on.made);
    assert.ok(rate >= 0.95, `bind groups reused in the last 3 steps: ${(100 * rate).toFixed(1)} %`);
    assert.ok(Object.keys(on.out).length > 50);
    for (const k of Object.keys(off.out)) assert.deepEqual(on.out[k], off.out[k], k);
    // Tiny LRUs: uniform buffers are evicted, go back to tfjs's pool and are rewritten
    // while earlier steps may still be queued; bind groups are evicted all the time.
    const caps = setHostCacheCaps({ bindGroups: 16, uniforms: 4 });
    const evictedBefore = stats.uniformMisses;
    let tiny: Awaited<ReturnType<typeof run>>;
    try {
      tiny = await run('on');
    } finally {
      setHostCacheCaps(caps);
    }
    for (const k of Object.keys(off.out)) assert.deepEqual(tiny.out[k], off.out[k], `tiny LRUs: ${k}`);
    assert.ok(
      stats.uniformMisses - evictedBefore > 100,
      `the tiny uniform LRU was exercised: ${stats.uniformMisses - evictedBefore} misses`,
    );
  } finally {
    registerWebgpuOps();
  }
});
