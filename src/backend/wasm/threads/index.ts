/**
 * `backend: {name: wasm, threads: k}`: k − 1 worker threads join the calling one in
 * the SIMD convolution kernels (forward, input gradient, filter gradient; most of a
 * ResNet step), each thread taking a slice of the batch:
 *   y and δ_in: slices of rows, concatenated;   ΔW (eq. 4): the slices' sums, added.
 * Everything else runs on the calling thread, as do small convolutions.
 */
import { type PoolOptions, WasmThreadPool } from './pool.js';

let pool: WasmThreadPool | null = null;
let paused = false;

/** The running pool, or null on one thread. */
export function activePool(): WasmThreadPool | null {
  return paused ? null : pool;
}

/** Benchmarks: run on one thread while paused, the workers kept (scripts/bench-engine). */
export function pauseWasmThreads(pause: boolean): void {
  paused = pause;
}

/** Start `threads − 1` workers. Throws when they can't start (the caller stays on one thread). */
export async function startWasmThreads(threads: number, opts: PoolOptions = {}): Promise<WasmThreadPool> {
  stopWasmThreads();
  pool = await WasmThreadPool.start(threads - 1, opts);
  return pool;
}

export function stopWasmThreads(): void {
  pool?.shutdown();
  pool = null;
  paused = false;
}
