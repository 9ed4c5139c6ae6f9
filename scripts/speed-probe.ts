/**
 * A fixed piece of SIMD work for benchmarks on shared machines, whose speed drifts
 * (this project's VM: up to ~1.5x over minutes): one conv2d_valid (conv2d.wat, 64
 * images of 16x16x32 → 32 channels, ~150M multiply-adds) on a private wasm memory,
 * without tfjs. Timing it between a benchmark's rounds shows how fast the machine was
 * while each was measured.
 */
import type { ConvExports } from '../src/backend/wasm/simd/index.js';
import { convModule } from '../src/backend/wasm/simd/modules.js';

const [N, H, C, O] = [64, 18, 32, 32];
let probe: (() => void) | null = null;

function setup(): () => void {
  const memory = new WebAssembly.Memory({ initial: 1 });
  const conv = new WebAssembly.Instance(convModule(), { env: { memory } }).exports as unknown as ConvExports;
  const [x, w] = [65536, 65536 + N * H * H * C * 4];
  const packed = w + 9 * C * O * 4;
  const out = packed + 9 * C * O * 4;
  memory.grow(Math.ceil((out + N * (H - 2) * (H - 2) * O * 4) / 65536));
  const f = new Float32Array(memory.buffer);
  for (let i = 0; i < (w - x) / 4 + 9 * C * O; i++) f[x / 4 + i] = Math.sin(i * 0.37);
  conv.filter_pack(w, packed, 3, C, O, 0, 0, 0, 0, 3, 3);
  return () => conv.conv2d_valid(x, packed, out, N, H, H, C, H - 2, H - 2, O, 3, 3, 1);
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
