/**
 * conv2d.wat on a private wasm memory, without tfjs, for the kernel benchmark
 * (bench-kernels) and the machine-speed probe (speed-probe): regions laid out from
 * 64 KiB on, filled with a fixed pattern, and plans run over them.
 */
import { type ConvPlan, runCalls } from '../src/backend/wasm/simd/conv_plans.js';
import type { ConvExports } from '../src/backend/wasm/simd/index.js';
import { convModule } from '../src/backend/wasm/simd/modules.js';

export interface KernelHarness {
  conv: ConvExports;
  /** Byte offsets of regions of `floats` each, growing the memory as needed. */
  layout(sizes: number[]): number[];
  /** A fixed, seeded pattern in `floats` floats at `at`. */
  fill(at: number, floats: number, seed: number): void;
  /** A closure running `plan` over all its rows with inputs/output/scratch at these offsets. */
  runner(plan: ConvPlan, inputs: number[], out: number, scratch: number): () => void;
}

export function kernelHarness(): KernelHarness {
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 32768 });
  const conv = new WebAssembly.Instance(convModule(), { env: { memory } }).exports as unknown as ConvExports;
  return {
    conv,
    layout(sizes) {
      let at = 65536;
      const offsets = sizes.map((floats) => {
        const here = at;
        at += Math.ceil((floats * 4) / 64) * 64;
        return here;
      });
      const pages = Math.ceil(at / 65536) - memory.buffer.byteLength / 65536;
      if (pages > 0) memory.grow(pages);
      return offsets;
    },
    fill(at, floats, seed) {
      const v = new Float32Array(memory.buffer, at, floats);
      for (let i = 0; i < floats; i++) v[i] = Math.sin(seed + i * 0.37);
    },
    runner: (plan, inputs, out, scratch) => () =>
      runCalls(conv, plan.calls(plan.rows, { inputs, out, scratch })),
  };
}
