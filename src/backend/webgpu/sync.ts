/**
 * Waiting for the GPU without reading tensors back.
 *
 * tfjs queues kernels without ever blocking, so a training loop that never reads a
 * value runs ahead of the GPU by any number of steps, and every queued step pins its
 * upload and uniform buffers until the GPU gets to it. On lavapipe ~30 such steps
 * exhaust the process's memory mappings and Dawn crashes (SIGSEGV in createBuffer);
 * any driver eventually runs out. `webgpuThrottle` bounds the queue: call it once per
 * training step (it is a no-op on other backends).
 */
import * as tf from '@tensorflow/tfjs-core';
import { throwIfDeviceError } from './device_errors.js';
import { canonicalBufferOrder } from './host_caches.js';
import type { WebGPUBackend } from './program.js';

function activeWebgpu(): WebGPUBackend | null {
  return tf.getBackend() === 'webgpu' ? (tf.backend() as unknown as WebGPUBackend) : null;
}

/** Submit everything tfjs has recorded so far; returns when the GPU has finished it. */
function submitAll(backend: WebGPUBackend): Promise<undefined> {
  backend.ensureCommandEncoderReady();
  backend.endComputePassEncoder();
  backend.submitQueue();
  return backend.device.queue.onSubmittedWorkDone();
}

/** Wait until the GPU has run everything queued so far (for timing). */
export async function webgpuFinish(): Promise<void> {
  const backend = activeWebgpu();
  if (!backend) return;
  const done = submitAll(backend);
  canonicalBufferOrder(backend);
  await done;
  throwIfDeviceError(backend.device);
}

const inFlight: Array<Promise<undefined>> = [];

/**
 * Mark the end of one step's GPU work and wait while more than `maxInFlight` steps are
 * still queued. With 2, the GPU always has the next step ready and memory stays flat.
 */
export async function webgpuThrottle(maxInFlight = 2): Promise<void> {
  const backend = activeWebgpu();
  if (!backend) return;
  inFlight.push(submitAll(backend));
  canonicalBufferOrder(backend);
  while (inFlight.length > maxInFlight) await inFlight.shift();
  throwIfDeviceError(backend.device);
}
