/**
 * GPU memory as tfjs-webgpu's buffer pool sees it (`BufferManager`, private in its
 * typings, stable in 4.22), for the benchmark's peak-memory column and for giving the
 * pool back between differently shaped nets.
 *
 * - `usedBytes`: the storage buffers tfjs has handed out and not yet taken back: live
 *   tensors, plus buffers of tensors disposed since the last submit (tfjs releases them
 *   at the submit), plus the host caches' uniform buffers (a few KB). This is what
 *   `tf.memory().numBytesInGPU` reports; its peak is the analogue of PyTorch's
 *   `torch.cuda.max_memory_allocated()`.
 * - `allocatedBytes`: every buffer the pool holds, used or free for reuse
 *   (`tf.memory().numBytesAllocatedInGPU`); the analogue of
 *   `torch.cuda.max_memory_reserved()`. The pool keys buffers by exact size and never
 *   frees them, so after nets of other shapes it holds buffers nothing will reuse:
 *   `releaseFreeBuffers` destroys those.
 *
 * Not counted: our constant tables and query sets (bytes), Dawn's own allocations and
 * the driver's (pipelines, command buffers).
 */
import type { WebGPUBackend } from './program.js';

interface BufferManagerInternals {
  freeBuffers: Map<string, GPUBuffer[]>;
  numFreeBuffers: number;
  numBytesUsed: number;
  numBytesAllocated: number;
  acquireBuffer(size: number, usage: number, mappedAtCreation?: boolean, reuse?: boolean): GPUBuffer;
}

export interface GpuMemory {
  usedBytes: number;
  allocatedBytes: number;
  /** Highest values since `resetPeakGpuMemory` (or since tracking started). */
  peakUsedBytes: number;
  peakAllocatedBytes: number;
}

interface Peaks {
  used: number;
  allocated: number;
}

const peaks = new WeakMap<object, Peaks>();

function manager(backend: WebGPUBackend): BufferManagerInternals {
  return (backend as unknown as { bufferManager: BufferManagerInternals }).bufferManager;
}

/** Record the pool's highest used and allocated bytes from now on (idempotent). */
function track(backend: WebGPUBackend): Peaks {
  const m = manager(backend);
  const known = peaks.get(m);
  if (known) return known;
  const peak: Peaks = { used: m.numBytesUsed, allocated: m.numBytesAllocated };
  const acquire = m.acquireBuffer.bind(m);
  m.acquireBuffer = (size, usage, mappedAtCreation, reuse) => {
    const buffer = acquire(size, usage, mappedAtCreation, reuse);
    if (m.numBytesUsed > peak.used) peak.used = m.numBytesUsed;
    if (m.numBytesAllocated > peak.allocated) peak.allocated = m.numBytesAllocated;
    return buffer;
  };
  peaks.set(m, peak);
  return peak;
}

/** The pool's bytes now and their peaks (tracking starts at the first call). */
export function gpuMemory(backend: WebGPUBackend): GpuMemory {
  const m = manager(backend);
  const p = track(backend);
  return {
    usedBytes: m.numBytesUsed,
    allocatedBytes: m.numBytesAllocated,
    peakUsedBytes: Math.max(p.used, m.numBytesUsed),
    peakAllocatedBytes: Math.max(p.allocated, m.numBytesAllocated),
  };
}

/** Start the peaks again from the current values. */
export function resetPeakGpuMemory(backend: WebGPUBackend): void {
  const m = manager(backend);
  const p = track(backend);
  p.used = m.numBytesUsed;
  p.allocated = m.numBytesAllocated;
}

/**
 * Destroy the buffers the pool keeps free for reuse; returns the bytes given back.
 * Safe at any time: a free buffer belongs to no tensor, and the GPU frees its memory
 * only after the work already submitted with it (WebGPU's destroy()). Call it between
 * nets of different shapes, whose buffers the pool would otherwise keep side by side.
 */
export function releaseFreeBuffers(backend: WebGPUBackend): number {
  const m = manager(backend);
  let bytes = 0;
  for (const list of m.freeBuffers.values()) {
    for (const buffer of list) {
      bytes += buffer.size;
      buffer.destroy();
    }
    m.numFreeBuffers -= list.length;
    // Emptied, not deleted: tfjs's releaseBuffer does nothing once the map is empty.
    list.length = 0;
  }
  m.numBytesAllocated -= bytes;
  return bytes;
}
