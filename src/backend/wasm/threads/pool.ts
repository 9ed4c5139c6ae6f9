/**
 * Multi-threaded wasm for tfjs in Node, where tfjs disables its own threads: worker
 * threads that run our SIMD convolutions (conv2d.wat) on slices of the batch. Each
 * worker has a shared memory; for each job the main thread copies the worker's slice
 * of the inputs into it, posts the kernel calls, computes its own slice in place in
 * the tfjs heap, then waits (Atomics.wait) and copies the workers' results back, so
 * the kernel stays synchronous like any tfjs kernel. Per job that is one copy in and
 * one copy out of each worker's share, on the main thread.
 *
 * It must never hang a run. Every wait has a watchdog: when a worker is not done
 * within max(minTimeoutMs, 20 × the main thread's time for its own slice), or fails,
 * the main thread computes that slice itself, shuts the pool down and carries on on
 * one thread; `onFallback` tells the log why.
 */
import { MessageChannel, type MessagePort, receiveMessageOnPort, type Worker } from 'node:worker_threads';
import { spawnWorker } from '../../../util/worker.js';
import { type Call, type ConvPlan, type MainSide, scratchFloats } from '../simd/conv_plans.js';
import { CTRL, FNS } from './protocol.js';

export interface PoolOptions {
  /**
   * Convolutions with fewer multiply-adds run on the calling thread alone (default 16M,
   * ~1 ms: below that the copies and wake-ups cost about what a second thread saves;
   * the quickstart's 8-channel 16x16 layers ran slower split).
   */
  minSplitMacs?: number;
  /** Lower bound of the watchdog (ms). */
  minTimeoutMs?: number;
  /** How long the workers may take to start (ms). */
  startTimeoutMs?: number;
  onFallback?: (reason: string) => void;
}

interface Slot {
  worker: Worker;
  port: MessagePort;
  memory: WebAssembly.Memory;
  seq: number;
}

const PAGE = 65536;
const MIN_MACS_PER_SUMMED_FLOAT = 100;
const MAX_PAGES = 32768; // as declared by conv2d_shared (scripts/build-wasm.mjs)
const align = (bytes: number) => Math.ceil(bytes / 16) * 16;

export class WasmThreadPool {
  private slots: Slot[] = [];
  private stopped = false;
  private readonly hang = new Set<Slot>();
  /** Convolutions split across threads so far (tests, logs). */
  splitJobs = 0;

  private constructor(private readonly opts: PoolOptions) {}

  /** Start `workers` threads (besides the calling one) and wait until each is ready. */
  static async start(workers: number, opts: PoolOptions = {}): Promise<WasmThreadPool> {
    const pool = new WasmThreadPool(opts);
    const startTimeout = opts.startTimeoutMs ?? 30_000;
    try {
      await Promise.all(Array.from({ length: workers }, () => pool.spawn(startTimeout)));
    } catch (err) {
      pool.shutdown();
      throw new Error(`wasm threads failed to start: ${(err as Error).message}`);
    }
    return pool;
  }

  private async spawn(startTimeout: number): Promise<void> {
    const { port1, port2 } = new MessageChannel();
    const memory = new WebAssembly.Memory({ initial: 1, maximum: MAX_PAGES, shared: true });
    const worker = spawnWorker(import.meta.url, 'wasm-worker', {
      workerData: { memory, port: port2 },
      transferList: [port2],
    });
    this.slots.push({ worker, port: port1, memory, seq: 0 });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no ready signal in ${startTimeout} ms`)),
        startTimeout,
      );
      const fail = (e: Error) => {
        clearTimeout(timer);
        reject(e);
      };
      port1.once('message', (m: { ready?: boolean; error?: string }) => {
        clearTimeout(timer);
        if (m.ready) resolve();
        else reject(new Error(m.error ?? 'unexpected message'));
      });
      worker.once('error', fail);
      worker.once('exit', (code) => fail(new Error(`worker exited (${code})`)));
    });
    worker.removeAllListeners('exit');
    worker.unref();
    port1.unref();
  }

  /** Threads in use, the calling one included (1 after a fallback). */
  get threads(): number {
    return this.stopped ? 1 : this.slots.length + 1;
  }

  /** Compute `plan` over its batch rows: slices on the workers, the first on the calling thread. */
  run(plan: ConvPlan, main: MainSide): void {
    const macs = plan.rows * plan.macsPerRow;
    // A summed result (ΔW) comes back from every worker to be added here (~1.5 ns per
    // float): splitting pays only with ~100+ multiply-adds per result float (a 3x3
    // ΔW of 512x512 channels over 64 1x1 maps has 7, and ran slower split).
    const small =
      macs < (this.opts.minSplitMacs ?? 16e6) ||
      (plan.out.combine === 'sum' && macs < MIN_MACS_PER_SUMMED_FLOAT * plan.out.floats);
    const parts = this.stopped || small ? 1 : Math.min(this.slots.length + 1, plan.rows);
    if (parts === 1) {
      main.runPart(0, plan.rows);
      return;
    }
    const counts = Array.from(
      { length: parts },
      (_, i) => Math.floor(plan.rows / parts) + (i < plan.rows % parts ? 1 : 0),
    );
    const starts = counts.map((_, i) => counts.slice(0, i).reduce((a, b) => a + b, 0));
    this.splitJobs++;
    const outAt: number[] = [];
    for (let i = 1; i < parts; i++) outAt[i] = this.post(this.slots[i - 1], plan, main, starts[i], counts[i]);

    const t0 = performance.now();
    main.runPart(0, counts[0]);
    const ownMs = performance.now() - t0;

    for (let i = 1; i < parts; i++) {
      const slot = this.slots[i - 1];
      // After a fallback the other workers get no more time: whatever is not done is computed here.
      const failure = this.wait(
        slot,
        this.stopped ? 0 : Math.max(this.opts.minTimeoutMs ?? 30_000, 20 * ownMs),
      );
      if (failure !== null) this.fallBack(failure);
      this.collect(plan, main, starts[i], counts[i], failure === null ? slot.memory.buffer : null, outAt[i]);
    }
  }

  /** Copy a worker's slice of the inputs into its memory and post the calls; returns its result's offset. */
  private post(slot: Slot, plan: ConvPlan, main: MainSide, start: number, count: number): number {
    const sizes = plan.inputs.map((p) => (p.split ? count * p.floats : p.floats) * 4);
    const outBytes = (plan.out.combine === 'concat' ? count : 1) * plan.out.floats * 4;
    const offsets: number[] = [];
    let at = CTRL.bytes;
    for (const bytes of [...sizes, outBytes, scratchFloats(plan, count) * 4]) {
      offsets.push(at);
      at += align(bytes);
    }
    const pages = Math.ceil(at / PAGE);
    if (pages > slot.memory.buffer.byteLength / PAGE)
      slot.memory.grow(pages - slot.memory.buffer.byteLength / PAGE);
    const heap = main.heap();
    const dst = new Uint8Array(slot.memory.buffer);
    plan.inputs.forEach((p, k) => {
      const from = main.inputs[k] + (p.split ? start * p.floats * 4 : 0);
      dst.set(new Uint8Array(heap, from, sizes[k]), offsets[k]);
    });
    const n = plan.inputs.length;
    this.send(
      slot,
      plan.calls(count, { inputs: offsets.slice(0, n), out: offsets[n], scratch: offsets[n + 1] }),
    );
    return offsets[n];
  }

  private send(slot: Slot, calls: Call[]): void {
    const ctrl = new Int32Array(slot.memory.buffer, 0, CTRL.words);
    if (this.hang.delete(slot)) ctrl[CTRL.calls] = -1;
    else {
      ctrl[CTRL.calls] = calls.length;
      let at = CTRL.calls + 1;
      for (const { fn, args } of calls) {
        ctrl[at] = FNS.indexOf(fn);
        ctrl[at + 1] = args.length;
        ctrl.set(args, at + 2);
        at += 2 + args.length;
      }
      if (at > CTRL.words) throw new Error('wasm threads: call list too long');
    }
    slot.seq++;
    Atomics.store(ctrl, CTRL.posted, slot.seq);
    Atomics.notify(ctrl, CTRL.posted);
  }

  /** Put a worker's slice into the result: from its memory, or (after a failure) computed here. */
  private collect(
    plan: ConvPlan,
    main: MainSide,
    start: number,
    count: number,
    from: ArrayBuffer | null,
    at: number,
  ) {
    const floats = (plan.out.combine === 'concat' ? count : 1) * plan.out.floats;
    if (plan.out.combine === 'concat') {
      if (from)
        new Float32Array(main.heap(), main.out + start * plan.out.floats * 4, floats).set(
          new Float32Array(from, at, floats),
        );
      else main.runPart(start, count);
      return;
    }
    let scratch = 0;
    let part = from ? new Float32Array(from, at, floats) : null;
    if (!part) {
      scratch = main.alloc(floats * 4);
      main.runPart(start, count, scratch);
      part = new Float32Array(main.heap(), scratch, floats);
    }
    const sum = new Float32Array(main.heap(), main.out, floats);
    for (let i = 0; i < floats; i++) sum[i] += part[i];
    if (scratch) main.free(scratch);
  }

  /** Make the next job of worker `index` hang (tests of the watchdog). */
  hangNextJobOf(index: number): void {
    this.hang.add(this.slots[index]);
  }

  /** null when the slot's last job finished in time, else why not. */
  private wait(slot: Slot, timeoutMs: number): string | null {
    const ctrl = new Int32Array(slot.memory.buffer, 0, CTRL.words);
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const done = Atomics.load(ctrl, CTRL.done);
      if (done === slot.seq) break;
      const left = deadline - performance.now();
      if (left <= 0) return `a wasm thread did not finish its part within ${Math.round(timeoutMs)} ms`;
      Atomics.wait(ctrl, CTRL.done, done, left);
    }
    if (Atomics.load(ctrl, CTRL.failed) === 0) return null;
    const msg = receiveMessageOnPort(slot.port)?.message as { error?: string } | undefined;
    return `a wasm thread failed: ${msg?.error?.split('\n')[0] ?? 'unknown error'}`;
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
      const ctrl = new Int32Array(slot.memory.buffer, 0, CTRL.words);
      Atomics.store(ctrl, CTRL.posted, -1);
      Atomics.notify(ctrl, CTRL.posted);
      void slot.worker.terminate();
      slot.port.close();
    }
  }
}
