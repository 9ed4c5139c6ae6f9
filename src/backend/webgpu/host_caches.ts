/**
 * Host-side caches that cut the CPU cost of each dispatch (tfjs's recordAndSubmit and
 * ours in raw_dispatch.ts both go through them):
 *
 * - **Bind groups.** `device.createBindGroup` is the dearest call per dispatch (docs/gpu.md,
 *   "Host caches"; scripts/bench-dispatch.ts measures the caches' effect).
 *   Only bind groups made of buffers are cached (a texture view is a new object
 *   every time). A bind group only names a layout and
 *   buffer ranges, never their contents, so the same (layout, buffers, offsets, sizes)
 *   can reuse the same bind group. tfjs's buffer pool hands the same buffers out again
 *   from step to step, so most of a step's bind groups recur. LRU (`setHostCacheCaps`).
 * - **Bind group layouts.** `pipeline.getBindGroupLayout(0)` returns a new object on
 *   every call (tfjs calls it per dispatch), which would defeat the cache above; it is
 *   memoised per pipeline (an 'auto' layout is only valid with its own pipeline).
 * - **Uniform buffers.** tfjs writes every dispatch's uniforms (shapes, strides, the
 *   program's values) into a pooled buffer. Nearly all of them are the same every step,
 *   so a content seen a second time gets one buffer, written once and never changed;
 *   a bind group naming it stays right. Contents that change every step (WM's noise
 *   seed) stay on tfjs's pooled path; when the cache is full the least recently used
 *   content's buffer goes back to tfjs's pool (released at the next submit, as tfjs
 *   releases its own). Cached buffers count as in use in `tf.memory()` (a few KB).
 *
 * A buffer is never bound through a stale bind group: the key holds the buffer's
 * identity, and tfjs never reuses a destroyed buffer object. With the caches off
 * (`setHostCaches(false)`) every call goes to tfjs/Dawn as before; buffers cached
 * earlier stay out of the pool.
 */
import type { ProgramUniforms, WebGPUBackend } from './program.js';

/** LRU sizes; the nets here settle at 550-1,300 bind groups (scripts/bench-host-caches.ts) and far fewer uniform contents. */
const caps = { bindGroups: 8192, uniforms: 2048 };

/** Change the LRU sizes (tests; each ≥ 1); returns the previous ones. */
export function setHostCacheCaps(next: Partial<typeof caps>): typeof caps {
  for (const [name, n] of Object.entries(next)) {
    if (!Number.isInteger(n) || n < 1)
      throw new Error(`setHostCacheCaps: ${name} must be a whole number ≥ 1, not ${n}`);
  }
  const previous = { ...caps };
  Object.assign(caps, next);
  for (const trim of trimmers) trim();
  return previous;
}

/** Per installed device: evict down to the caps (after they shrink). */
const trimmers: Array<() => void> = [];

interface BackendInternals {
  device: GPUDevice;
  makeUniforms(uniforms: ProgramUniforms): GPUBufferBinding;
  uniformPendingDisposal: GPUBuffer[];
}

let enabled = true;
let bufferOrder = true;
const ids = new WeakMap<object, number>();
let nextId = 1;
const idOf = (o: object): number => {
  let id = ids.get(o);
  if (id === undefined) {
    id = nextId++;
    ids.set(o, id);
  }
  return id;
};
const installed = new WeakSet<object>();
const layoutsByPipeline = new WeakMap<GPUComputePipeline, GPUBindGroupLayout[]>();
let pipelinePatched = false;

/** Switch the caches on or off (registerWebgpuOps' `hostCaches`); cached entries stay valid. */
export function setHostCaches(on: boolean): void {
  enabled = on;
}

/** Keep the caches but not the fixed buffer order (scripts/bench-host-caches.ts shows why it matters). */
export function setCanonicalBufferOrder(on: boolean): void {
  bufferOrder = on;
}

export interface HostCacheStats {
  bindGroupHits: number;
  bindGroupMisses: number;
  uniformHits: number;
  uniformMisses: number;
}

const statsByDevice = new WeakMap<GPUDevice, HostCacheStats>();

/** Hit and miss counts since the caches were installed on `backend`'s device (for tests and benchmarks). */
export function hostCacheStats(backend: WebGPUBackend): HostCacheStats | undefined {
  return statsByDevice.get((backend as unknown as BackendInternals).device);
}

function memoiseLayouts(device: GPUDevice): void {
  if (pipelinePatched) return;
  const probe = device.createComputePipeline({
    layout: 'auto',
    compute: {
      module: device.createShaderModule({ code: '@compute @workgroup_size(1) fn main() {}' }),
      entryPoint: 'main',
    },
  });
  const proto = Object.getPrototypeOf(probe) as GPUComputePipeline;
  const original = proto.getBindGroupLayout;
  proto.getBindGroupLayout = function (this: GPUComputePipeline, index: number) {
    if (!enabled) return original.call(this, index);
    let layouts = layoutsByPipeline.get(this);
    if (!layouts) {
      layouts = [];
      layoutsByPipeline.set(this, layouts);
    }
    layouts[index] ??= original.call(this, index);
    return layouts[index];
  };
  pipelinePatched = true;
}

/** Install the caches on a webgpu backend's device (idempotent). */
export function installHostCaches(backend: WebGPUBackend): void {
  const b = backend as unknown as BackendInternals;
  const device = b.device;
  if (installed.has(device)) return;
  installed.add(device);
  memoiseLayouts(device);
  const stats: HostCacheStats = { bindGroupHits: 0, bindGroupMisses: 0, uniformHits: 0, uniformMisses: 0 };
  statsByDevice.set(device, stats);

  const createBindGroup = device.createBindGroup.bind(device);
  const bindGroups = new Map<string, GPUBindGroup>();
  const trimBindGroups = (size: number) => {
    while (bindGroups.size > size) bindGroups.delete(bindGroups.keys().next().value as string);
  };
  device.createBindGroup = (descriptor: GPUBindGroupDescriptor): GPUBindGroup => {
    if (!enabled) return createBindGroup(descriptor);
    let key = String(idOf(descriptor.layout));
    for (const e of descriptor.entries) {
      const r = e.resource as GPUBufferBinding;
      if (r.buffer === undefined) return createBindGroup(descriptor);
      key += `,${e.binding}:${idOf(r.buffer)}:${r.offset ?? 0}:${r.size ?? -1}`;
    }
    let group = bindGroups.get(key);
    if (group) {
      stats.bindGroupHits++;
      bindGroups.delete(key); // re-insert: Map order is the LRU order
    } else {
      stats.bindGroupMisses++;
      group = createBindGroup(descriptor);
      trimBindGroups(caps.bindGroups - 1);
    }
    bindGroups.set(key, group);
    return group;
  };

  const makeUniforms = b.makeUniforms.bind(b);
  const uniforms = new Map<string, GPUBufferBinding>();
  const seenOnce = new Map<string, true>();
  const trimUniforms = (size: number) => {
    // The least recently used contents (values that change every step, typically) give
    // their buffers back to tfjs's pool, released at the next submit.
    for (const [key, binding] of uniforms) {
      if (uniforms.size <= size) break;
      uniforms.delete(key);
      b.uniformPendingDisposal.push(binding.buffer);
    }
  };
  trimmers.push(() => {
    trimBindGroups(caps.bindGroups);
    trimUniforms(caps.uniforms);
  });
  b.makeUniforms = (values: ProgramUniforms): GPUBufferBinding => {
    if (!enabled) return makeUniforms(values);
    let key = '';
    for (const v of values) {
      key += `${v.type}${v.data.join(',')};`;
      // join() writes −0 as 0, but the sign of zero is a different float.
      if (v.data.includes(0)) key += v.data.map((x) => (Object.is(x, -0) ? 'n' : 'p')).join('');
    }
    const cached = uniforms.get(key);
    if (cached) {
      stats.uniformHits++;
      uniforms.delete(key); // re-insert: Map order is the LRU order
      uniforms.set(key, cached);
      return cached;
    }
    stats.uniformMisses++;
    if (!seenOnce.delete(key)) {
      // First sight: tfjs's pooled buffer, as before. Contents that change every step
      // (WM's noise seed) stay on this path and never pin a buffer.
      seenOnce.set(key, true);
      while (seenOnce.size > 2 * caps.uniforms) seenOnce.delete(seenOnce.keys().next().value as string);
      return makeUniforms(values);
    }
    trimUniforms(caps.uniforms - 1);
    const binding = makeUniforms(values);
    // Keep the buffer out of tfjs's pool: it now holds `key` for good.
    const pending = b.uniformPendingDisposal;
    const i = pending.lastIndexOf(binding.buffer);
    if (i >= 0) pending.splice(i, 1);
    uniforms.set(key, binding);
    return binding;
  };
}

/**
 * Put tfjs's free-buffer lists in one fixed order at a step boundary: pop() gives the
 * buffer these caches saw first (bound or sorted first). The pool is a stack per size, so without this the buffers a step gets
 * are a permutation of the last step's, and the bind groups naming them recur only
 * after many steps; with it a step gets the same buffers as the step before.
 */
export function canonicalBufferOrder(backend: WebGPUBackend): void {
  if (!enabled || !bufferOrder) return;
  const manager = (backend as unknown as { bufferManager?: { freeBuffers?: Map<string, GPUBuffer[]> } })
    .bufferManager;
  manager?.freeBuffers?.forEach((list) => {
    if (list.length > 1) list.sort((a, b) => idOf(b) - idOf(a));
  });
}
