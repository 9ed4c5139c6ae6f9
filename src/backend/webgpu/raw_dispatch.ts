/**
 * Dispatching our own WGSL into tfjs-webgpu's command stream, for kernels that tfjs's
 * program contract (one new output buffer, read-only inputs) cannot express: updates
 * that write several existing tensors in place (the grouped SGD step, sgd_many.ts).
 *
 * It does what tfjs's recordAndSubmit does for a program: bind the tensors' buffers and
 * a uniform buffer, record the dispatch in the open compute pass, keep the buffers
 * alive until the command buffer is submitted, submit every
 * WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE dispatches, and time the pass under tf.profile.
 * A tensor is written in place only when it owns its buffer alone (`writableInPlace`),
 * and its CPU-side copy, if tfjs cached one after a read, is dropped. A variable that
 * shares its buffer (a snapshot's clone, a just-restored checkpoint tensor) is first
 * given a bit-exact copy of its own (`ownBufferForInPlace`), so the in-place kernel
 * always runs and results never depend on who else held the buffer.
 */
import * as tf from '@tensorflow/tfjs-core';
import { COPY_KERNEL } from './elementwise.js';
import type { ProgramUniforms, WebGPUBackend } from './program.js';

/** The tfjs-webgpu internals recordAndSubmit uses (private in its typings, stable in 4.22). */
interface BackendInternals {
  device: GPUDevice;
  commandEncoder: GPUCommandEncoder | null;
  computePassEncoder: GPUComputePassEncoder | null;
  commandQueueOwnedIds: WeakSet<object>;
  dispatchCountInPass: number;
  activeTimers: Array<{ name: string; query: Promise<number> }> | null;
  supportTimestampQuery: boolean;
  querySet: GPUQuerySet | null;
  querySetCount: number;
  tensorMap: {
    get(dataId: object): { resource: unknown; values: unknown; refCount: number } | undefined;
  };
  makeUniforms(uniforms: ProgramUniforms): GPUBufferBinding;
  uploadToGPU(dataId: object): void;
  ensureCommandEncoderReady(): void;
  endComputePassEncoder(): void;
  submitQueue(): void;
  getQueryTime(): Promise<number>;
}

/** A storage buffer a raw shader declares: its WGSL name, written or read-only, element type. */
export interface RawBufferDecl {
  name: string;
  write?: boolean;
  type?: 'f32' | 'i32';
}

/**
 * The WGSL header of a raw shader, in recordRawDispatch's binding order: struct
 * `Uniforms` with the fields `uniforms` ('a : i32, b : f32,'), binding i = buffers[i],
 * then the uniforms as `u`.
 */
export function rawShaderHeader(buffers: RawBufferDecl[], uniforms: string): string {
  const decls = buffers.map(
    ({ name, write, type }, i) =>
      `@group(0) @binding(${i}) var<storage, ${write ? 'read_write' : 'read'}> ${name} : array<${type ?? 'f32'}>;`,
  );
  return `
struct Uniforms { ${uniforms} };
${decls.join('\n')}
@group(0) @binding(${buffers.length}) var<uniform> u : Uniforms;
`;
}

export type RawBinding =
  | {
      tensor: tf.TensorInfo;
      /** Bound read_write and written in place (must pass `writableInPlace`). */
      write: boolean;
    }
  /** A read-only buffer the kernel owns for the device's lifetime (constant tables). */
  | { buffer: GPUBuffer };

interface CachedPipeline {
  pipeline: GPUComputePipeline;
  layout: GPUBindGroupLayout;
}

/** A per-device cache: `make()` runs once per device and key. */
function cachedPerDevice<T>(
  cache: WeakMap<GPUDevice, Map<string, T>>,
  device: GPUDevice,
  key: string,
  make: () => T,
): T {
  let byKey = cache.get(device);
  if (!byKey) {
    byKey = new Map();
    cache.set(device, byKey);
  }
  let value = byKey.get(key);
  if (value === undefined) {
    value = make();
    byKey.set(key, value);
  }
  return value;
}

const pipelines = new WeakMap<GPUDevice, Map<string, CachedPipeline>>();
const constantBuffers = new WeakMap<GPUDevice, Map<string, GPUBuffer>>();

function pipelineFor(device: GPUDevice, code: string): CachedPipeline {
  return cachedPerDevice(pipelines, device, code, () => {
    const pipeline = device.createComputePipeline({
      layout: 'auto',
      compute: { module: device.createShaderModule({ code }), entryPoint: 'main' },
    });
    return { pipeline, layout: pipeline.getBindGroupLayout(0) };
  });
}

const internals = (backend: WebGPUBackend): BackendInternals => backend as unknown as BackendInternals;

/**
 * True when writing `t`'s buffer changes no other live tensor: it is the only tensor
 * on its data and none of `others` shares it (WebGPU also forbids binding a buffer
 * writable twice, or writable and read-only, in one dispatch).
 */
export function writableInPlace(backend: WebGPUBackend, t: tf.TensorInfo, others: tf.TensorInfo[]): boolean {
  const data = internals(backend).tensorMap.get(t.dataId);
  return (
    data !== undefined &&
    data.refCount === 1 &&
    t.dtype === 'float32' &&
    others.every((o) => o === t || o.dataId !== t.dataId)
  );
}

/**
 * Make `v` writable in place: if it shares its buffer (or aliases one of `others`),
 * assign it a bit-exact copy (registered kernel WtrainCopy). False when it can't be
 * (not float32).
 */
export function ownBufferForInPlace(
  backend: WebGPUBackend,
  v: tf.Variable,
  others: tf.TensorInfo[],
): boolean {
  if (writableInPlace(backend, v, others)) return true;
  if (v.dtype !== 'float32') return false;
  tf.tidy(() => v.assign(tf.engine().runKernel(COPY_KERNEL, { x: v }, {}) as tf.Tensor));
  return writableInPlace(backend, v, others);
}

/**
 * Record one dispatch of `code` (entry point `main`; binding i = bindings[i], then the
 * uniforms at binding bindings.length) with `workgroups` workgroups along x.
 */
export function recordRawDispatch(
  backend: WebGPUBackend,
  name: string,
  code: string,
  bindings: RawBinding[],
  uniforms: ProgramUniforms,
  workgroups: number,
): void {
  const b = internals(backend);
  const { pipeline, layout } = pipelineFor(b.device, code);
  const entries: GPUBindGroupEntry[] = bindings.map((binding, i) => {
    if ('buffer' in binding) return { binding: i, resource: { buffer: binding.buffer } };
    const { tensor, write } = binding;
    b.uploadToGPU(tensor.dataId);
    const data = b.tensorMap.get(tensor.dataId);
    if (!data) throw new Error(`${name}: binding ${i} is a disposed tensor`);
    if (write) data.values = null; // the GPU copy changes: drop tfjs's cached CPU copy
    b.commandQueueOwnedIds.add(tensor.dataId);
    return { binding: i, resource: { buffer: data.resource as GPUBuffer } };
  });
  entries.push({ binding: bindings.length, resource: b.makeUniforms(uniforms) });
  const bindGroup = b.device.createBindGroup({ layout, entries });

  b.ensureCommandEncoderReady();
  const encoder = b.commandEncoder as GPUCommandEncoder;
  const timed = b.activeTimers != null;
  if (timed && b.supportTimestampQuery) {
    b.endComputePassEncoder();
    b.querySet ??= b.device.createQuerySet({ type: 'timestamp', count: b.querySetCount });
    b.computePassEncoder = encoder.beginComputePass({
      timestampWrites: { querySet: b.querySet, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 },
    });
  } else if (!b.computePassEncoder) {
    b.computePassEncoder = encoder.beginComputePass({});
  }
  const pass = b.computePassEncoder;
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, bindGroup);
  pass.dispatchWorkgroups(workgroups, 1, 1);
  b.dispatchCountInPass++;
  if (timed || tf.env().getNumber('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE') <= b.dispatchCountInPass) {
    b.endComputePassEncoder();
    if (timed) b.activeTimers?.push({ name, query: b.getQueryTime() });
    else b.submitQueue();
  }
}

/** A read-only storage buffer holding `values()`, made once per device and `key`. */
export function constantBuffer(
  backend: WebGPUBackend,
  key: string,
  values: () => Float32Array<ArrayBuffer>,
): GPUBuffer {
  const { device } = internals(backend);
  return cachedPerDevice(constantBuffers, device, key, () => {
    const data = values();
    const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST;
    const buffer = device.createBuffer({ size: data.byteLength, usage });
    device.queue.writeBuffer(buffer, 0, data);
    return buffer;
  });
}

/** A new float32 tensor with its GPU buffer, for a raw dispatch to write. */
export function newOutput(backend: WebGPUBackend, shape: number[]): tf.TensorInfo {
  const out = backend.makeTensorInfo(shape, 'float32');
  internals(backend).uploadToGPU(out.dataId);
  return out;
}
