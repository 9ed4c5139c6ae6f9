/**
 * Multi-threaded wasm for tfjs in Node, where tfjs disables its own threads: a pool of
 * worker threads, each with its own single-threaded wasm backend, that take slices of
 * a batch. The main thread copies each worker's slice into shared memory, posts it,
 * computes its own slice, then waits (Atomics.wait) for the others, so the caller
 * stays synchronous like any tfjs kernel.
 *
 * It must never hang a run. Every wait has a watchdog: when a worker is not done
 * within max(minTimeoutMs, 20 × the main thread's own time for the same work), or
 * fails, the main thread computes that slice itself, shuts the pool down and carries
 * on single-threaded; `onFallback` tells the log why.
 */
import { MessageChannel, type MessagePort, receiveMessageOnPort, type Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { spawnWorker } from '../../../util/worker.js';
import { copyOut, emptyTensor, heapF32, heapIndex, rowsOf, tensorFrom } from '../heap.js';
import { type ConvAttrs, CTRL, JOBS, type JobMessage, type JobName, type Placed } from './jobs.js';

export interface PoolOptions {
  /** Lower bound of the watchdog (ms); the first jobs include the workers' warm-up. */
  minTimeoutMs?: number;
  /** How long the workers may take to start (ms). */
  startTimeoutMs?: number;
  onFallback?: (reason: string) => void;
}

interface Slot {
  worker: Worker;
  port: MessagePort;
  ctrl: Int32Array;
  seq: number;
  buffer: SharedArrayBuffer | null;
  bufferSent: boolean;
  /** Where the last job's result lies in `buffer` (float index). */
  outAt: number;
}

/** How a job's result is put together from the slices' results. */
export type Combine = 'concat' | 'sum';

export class WasmThreadPool {
  private slots: Slot[] = [];
  private stopped = false;

  private constructor(private readonly opts: PoolOptions) {}

  /** Start `workers` threads (besides the main one) and wait until each has its backend. */
  static async start(workers: number, opts: PoolOptions = {}): Promise<WasmThreadPool> {
    const pool = new WasmThreadPool(opts);
    const startTimeout = opts.startTimeoutMs ?? 60_000;
    try {
      await Promise.all(
        Array.from({ length: workers }, async () => {
          const { port1, port2 } = new MessageChannel();
          const ctrl = new Int32Array(new SharedArrayBuffer(CTRL.words * 4));
          const worker = spawnWorker(import.meta.url, 'wasm-worker', {
            workerData: { ctrl: ctrl.buffer, port: port2 },
            transferList: [port2],
          });
          const slot: Slot = { worker, port: port1, ctrl, seq: 0, buffer: null, bufferSent: false, outAt: 0 };
          pool.slots.push(slot);
          await new Promise<void>((resolve, reject) => {
            const timer = setTimeout(
              () => reject(new Error(`no ready signal in ${startTimeout} ms`)),
              startTimeout,
            );
            port1.once('message', (m: { ready?: boolean; error?: string }) => {
              clearTimeout(timer);
              if (m.ready) resolve();
              else reject(new Error(m.error ?? 'unexpected message'));
            });
            worker.once('error', (e) => {
              clearTimeout(timer);
              reject(e);
            });
          });
          worker.unref();
          port1.unref();
        }),
      );
    } catch (err) {
      pool.shutdown();
      throw new Error(`wasm threads failed to start: ${(err as Error).message}`);
    }
    return pool;
  }

  /** Threads in use, the main one included (1 after a fallback). */
  get threads(): number {
    return this.stopped ? 1 : this.slots.length + 1;
  }

  /**
   * Run `job` over the batch (axis 0 of the inputs marked in `split`), one slice per
   * thread, and combine the slices' results (`concat` along axis 0, or `sum`).
   */
  run(job: JobName, attrs: ConvAttrs, inputs: tf.Tensor[], split: boolean[], combine: Combine): tf.Tensor {
    const n = inputs[split.indexOf(true)].shape[0];
    const parts = this.stopped ? 1 : Math.min(this.slots.length + 1, n);
    if (parts === 1) return JOBS[job](inputs, attrs);
    const counts = Array.from({ length: parts }, (_, i) => Math.floor(n / parts) + (i < n % parts ? 1 : 0));
    const starts = counts.map((_, i) => counts.slice(0, i).reduce((a, b) => a + b, 0));
    const sliceOf = (i: number) => inputs.map((t, k) => (split[k] ? rowsOf(t, starts[i], counts[i]) : t));

    const outShapes: number[][] = [];
    for (let i = 1; i < parts; i++)
      outShapes[i] = this.post(this.slots[i - 1], job, attrs, inputs, split, starts[i], counts[i]);
    const t0 = performance.now();
    const own = tf.tidy(() => JOBS[job](sliceOf(0), attrs));
    const ownMs = performance.now() - t0;

    // The workers' results are read straight from shared memory (no intermediate tensor).
    const results: Array<tf.Tensor | Float32Array> = [own];
    const computed: tf.Tensor[] = [own];
    for (let i = 1; i < parts; i++) {
      const slot = this.slots[i - 1];
      const failure = this.wait(slot, Math.max(this.opts.minTimeoutMs ?? 30_000, 20 * ownMs));
      if (failure === null) {
        results.push(this.view(slot, outShapes[i], slot.outAt));
      } else {
        this.fallBack(failure);
        const mine = tf.tidy(() => JOBS[job](sliceOf(i), attrs));
        results.push(mine);
        computed.push(mine);
      }
    }
    const out =
      combine === 'sum'
        ? tf.tidy(() =>
            tf.addN(results.map((r) => (r instanceof Float32Array ? tensorFrom(r, own.shape) : r))),
          )
        : concatRows(results, own.shape.slice(1));
    tf.dispose(computed);
    return out;
  }

  /** Copy a worker's inputs into its shared buffer and post the job; returns the result's shape. */
  private post(
    slot: Slot,
    job: JobName,
    attrs: ConvAttrs,
    inputs: tf.Tensor[],
    split: boolean[],
    start: number,
    count: number,
  ): number[] {
    const shapes = inputs.map((t, k) => (split[k] ? [count, ...t.shape.slice(1)] : t.shape));
    const outShape = resultShape(job, attrs, shapes);
    const placed: Placed[] = [];
    let at = 0;
    for (const shape of [...shapes, outShape]) {
      placed.push({ at, shape });
      at += Math.ceil(sizeOf(shape) / 4) * 4; // 16-byte aligned
    }
    this.ensureBuffer(slot, at);
    const heap = heapF32();
    inputs.forEach((t, k) => {
      const from = heapIndex(t) + (split[k] ? start * (t.size / t.shape[0]) : 0);
      this.view(slot, shapes[k], placed[k].at).set(heap.subarray(from, from + sizeOf(shapes[k])));
    });
    const out = placed[placed.length - 1];
    this.send(slot, { job, attrs, inputs: placed.slice(0, -1), out });
    return out.shape;
  }

  private send(slot: Slot, msg: JobMessage): void {
    if (!slot.bufferSent) {
      msg.buffer = slot.buffer as SharedArrayBuffer;
      slot.bufferSent = true;
    }
    slot.outAt = msg.out.at;
    slot.port.postMessage(msg);
    slot.seq++;
    Atomics.store(slot.ctrl, CTRL.posted, slot.seq);
    Atomics.notify(slot.ctrl, CTRL.posted);
  }

  /** Post a job that never finishes (tests of the watchdog). */
  stallNextJobOf(worker: number): void {
    const slot = this.slots[worker];
    this.ensureBuffer(slot, 4);
    this.send(slot, { job: 'stall', attrs: { stride: 1, pad: 0 }, inputs: [], out: { at: 0, shape: [1] } });
  }

  /** null when the slot's last job finished in time, else why not. */
  private wait(slot: Slot, timeoutMs: number): string | null {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const done = Atomics.load(slot.ctrl, CTRL.done);
      if (done === slot.seq) break;
      const left = deadline - performance.now();
      if (left <= 0) return `a wasm thread did not finish its part within ${Math.round(timeoutMs)} ms`;
      Atomics.wait(slot.ctrl, CTRL.done, done, left);
    }
    if (Atomics.load(slot.ctrl, CTRL.failed) === 0) return null;
    const msg = receiveMessageOnPort(slot.port)?.message as { error?: string } | undefined;
    return `a wasm thread failed: ${msg?.error?.split('\n')[0] ?? 'unknown error'}`;
  }

  private ensureBuffer(slot: Slot, floats: number): void {
    if (slot.buffer && slot.buffer.byteLength >= floats * 4) return;
    // Grow by half again, so a few growing jobs don't reallocate every time.
    slot.buffer = new SharedArrayBuffer(Math.ceil(floats * 1.5) * 4);
    slot.bufferSent = false;
  }

  private view(slot: Slot, shape: number[], at: number): Float32Array {
    return new Float32Array(slot.buffer as SharedArrayBuffer, at * 4, sizeOf(shape));
  }

  private fallBack(reason: string): void {
    if (this.stopped) return;
    this.shutdown();
    this.opts.onFallback?.(`${reason}; continuing on 1 thread`);
  }

  /** Stop the workers (idempotent). */
  shutdown(): void {
    if (this.stopped) return;
    this.stopped = true;
    for (const slot of this.slots) {
      Atomics.store(slot.ctrl, CTRL.posted, -1);
      Atomics.notify(slot.ctrl, CTRL.posted);
      void slot.worker.terminate();
      slot.port.close();
    }
  }
}

function sizeOf(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Rows of several parts (tensors in the heap, or shared-memory views) as one new tensor. */
function concatRows(parts: Array<tf.Tensor | Float32Array>, rowShape: number[]): tf.Tensor {
  const rowSize = sizeOf(rowShape);
  const size = parts.reduce((s, p) => s + (p instanceof Float32Array ? p.length : p.size), 0);
  const out = emptyTensor([size / rowSize, ...rowShape]);
  let at = heapIndex(out);
  for (const p of parts) {
    const heap = heapF32();
    if (p instanceof Float32Array) heap.set(p, at);
    else copyOut(p, heap.subarray(at, at + p.size));
    at += p instanceof Float32Array ? p.length : p.size;
  }
  return out;
}

/** The result shape of `job` on inputs of the given shapes (a slice's shapes for a worker). */
function resultShape(job: JobName, a: ConvAttrs, shapes: number[][]): number[] {
  const out = (size: number, k: number) => Math.floor((size + 2 * a.pad - k) / a.stride) + 1;
  switch (job) {
    case 'conv2d': {
      const [[n, h, w], [kh, kw, , co]] = shapes;
      return [n, out(h, kh), out(w, kw), co];
    }
    case 'conv2dInputGrad':
      return [shapes[0][0], ...(a.xRowShape as number[])];
    case 'conv2dFilterGrad':
      return a.filterShape as number[];
  }
}
