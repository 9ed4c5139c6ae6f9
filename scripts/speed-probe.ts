/**
 * A fixed piece of SIMD work for benchmarks on shared machines, whose speed drifts
 * (this project's VM: up to ~1.75x over minutes): one forward convolution (conv2d.wat,
 * 64 images of 16x16x32 → 32 channels, ~150M multiply-adds) on a private wasm memory,
 * without tfjs. Timing it between a benchmark's rounds shows how fast the machine was
 * while each was measured.
 */
import { forwardPlan, scratchFloats } from '../src/backend/wasm/simd/conv_plans.js';
import { kernelHarness } from './kernel-harness.js';

let probe: (() => void) | null = null;

function setup(): () => void {
  const { conv, layout, fill, runner } = kernelHarness();
  const plan = forwardPlan({ n: 64, h: 16, w: 16, c: 32, o: 32, kh: 3, kw: 3, stride: 1, pad: 1 }, false);
  const [x, w, packed, y, scratch] = layout([
    64 * 16 * 16 * 32,
    9 * 32 * 32,
    9 * 32 * 32,
    64 * 16 * 16 * 32,
    scratchFloats(plan, 64),
  ]);
  fill(x, 64 * 16 * 16 * 32, 1);
  fill(w, 9 * 32 * 32, 2);
  conv.filter_pack(w, packed, 3, 32, 32, 0, 0, 0, 0, 3, 3);
  return runner(plan, [x, packed], y, scratch);
}

/** Milliseconds of the probe (the best of `reps`). */
export function speedProbe(reps = 3): number {
  probe ??= setup();
  probe();
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < reps; i++) {
    const t = performance.now();
    probe();
    best = Math.min(best, performance.now() - t);
  }
  return best;
}

/** "min-max ms (n samples)" of probe timings. */
export function probeRange(ms: number[]): string {
  if (!ms.length) return 'not measured';
  return `${Math.min(...ms).toFixed(1)}-${Math.max(...ms).toFixed(1)} ms (${ms.length} samples)`;
}
