/**
 * Where batches get decoded: on the main thread (sharp's own libuv threads do the
 * decoding; cheap for raw MNIST/CIFAR pixels) or in a pool of worker_threads, each
 * running ./decode-worker.ts, so a trainer that blocks the main thread (tfjs CPU/WASM
 * kernels) doesn't stall decoding.
 */
import type { Worker } from 'node:worker_threads';
import { spawnWorker } from '../util/worker.js';
import { DataError } from './errors.js';
import type { SampleRef } from './sources/source.js';
import { type BatchJob, type BatchOut, buildBatch, closeFiles, configureSharp } from './transforms.js';

export interface Executor {
  /** Decode threads (0 = main thread). */
  readonly threads: number;
  run(job: BatchJob): Promise<BatchOut>;
  close(): Promise<void>;
}

/** A job as posted to a worker: in-memory sample bytes packed into one transferable buffer. */
export interface WireJob {
  id: number;
  spec: BatchJob['spec'];
  seed: number;
  samples: (Omit<SampleRef, 'bytes'> & { index: number; packed?: [number, number] })[];
  data: ArrayBuffer;
}

export type WireReply = { id: number; ok: true; out: BatchOut } | { id: number; ok: false; error: string };

/** Decodes on the main thread, `concurrency` sharp calls in flight per batch. */
export class InlineExecutor implements Executor {
  readonly threads = 0;

  constructor(private readonly concurrency = 4) {
    configureSharp();
  }

  run(job: BatchJob): Promise<BatchOut> {
    return buildBatch(job, this.concurrency);
  }

  async close(): Promise<void> {
    closeFiles();
  }
}

/**
 * Copy each sample's in-memory bytes into one fresh buffer. (Posting a view would clone
 * its whole underlying buffer, e.g. all of CIFAR-10; a fresh one can be transferred.)
 */
function pack(id: number, job: BatchJob): WireJob {
  let total = 0;
  for (const s of job.samples) total += s.bytes?.length ?? 0;
  const data = new Uint8Array(total);
  let off = 0;
  const samples = job.samples.map(({ bytes, ...rest }) => {
    if (!bytes) return rest;
    data.set(bytes, off);
    off += bytes.length;
    return { ...rest, packed: [off - bytes.length, bytes.length] as [number, number] };
  });
  return { id, spec: job.spec, seed: job.seed, samples, data: data.buffer };
}

function spawn(): Worker {
  return spawnWorker(import.meta.url, 'decode-worker');
}

interface Slot {
  worker: Worker;
  exited: Promise<void>;
  job?: { id: number; resolve: (o: BatchOut) => void; reject: (e: Error) => void };
}

export class WorkerPool implements Executor {
  private slots: Slot[] = [];
  private readonly queue: { wire: WireJob; resolve: (o: BatchOut) => void; reject: (e: Error) => void }[] =
    [];
  private nextId = 0;
  private failure: Error | null = null;

  constructor(readonly threads: number) {
    configureSharp(); // load sharp on the main thread before any worker does
  }

  run(job: BatchJob): Promise<BatchOut> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.slots.length === 0) this.start();
    return new Promise((resolve, reject) => {
      this.queue.push({ wire: pack(this.nextId++, job), resolve, reject });
      this.dispatch();
    });
  }

  private start(): void {
    for (let i = 0; i < this.threads; i++) {
      const worker = spawn();
      const slot: Slot = { worker, exited: new Promise((resolve) => worker.once('exit', () => resolve())) };
      slot.worker.unref(); // idle workers don't keep the process alive
      slot.worker.on('message', (msg: WireReply | 'ready') => {
        if (msg === 'ready' || !slot.job) return;
        const { resolve, reject } = slot.job;
        slot.job = undefined;
        slot.worker.unref();
        if (msg.ok) resolve(msg.out);
        else reject(new Error(`decode worker: ${msg.error}`));
        this.dispatch();
      });
      slot.worker.on('error', (err) => this.fail(err));
      slot.worker.on('exit', (code) => {
        if (slot.job) this.fail(new Error(`exited with code ${code}`));
      });
      this.slots.push(slot);
    }
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (slot.job || this.queue.length === 0) continue;
      const { wire, resolve, reject } = this.queue.shift()!;
      slot.job = { id: wire.id, resolve, reject };
      slot.worker.ref(); // keep the process alive while a job is out
      slot.worker.postMessage(wire, [wire.data]);
    }
  }

  private fail(err: Error): void {
    if (this.failure) return;
    this.failure = new DataError(
      `a decode worker failed (${err.message}); set data.workers: 0 to decode on the main thread`,
    );
    for (const slot of this.slots) slot.job?.reject(this.failure);
    for (const q of this.queue.splice(0)) q.reject(this.failure);
    void this.close();
  }

  /** Ask each worker to close its files and exit; terminate the ones that don't within a second. */
  async close(): Promise<void> {
    const slots = this.slots;
    this.slots = [];
    await Promise.all(
      slots.map((s) => {
        s.worker.postMessage('close');
        const timer = setTimeout(() => void s.worker.terminate(), 1000);
        return s.exited.finally(() => clearTimeout(timer));
      }),
    );
  }
}

export function createExecutor(workers: number): Executor {
  return workers > 0 ? new WorkerPool(workers) : new InlineExecutor();
}
