/**
 * Counts compute dispatches and buffer creations at Dawn's API (every kernel: tfjs's
 * programs and ours), to report how many a training step records. Host time per
 * dispatch (tfjs + Dawn, ~0.1-0.2 ms) is what bounds small steps on a fast GPU.
 */
import { globals } from 'webgpu';

const counts = { dispatches: 0, buffers: 0 };
let installed = false;

type Method = (...args: unknown[]) => unknown;

function countCalls(
  proto: Record<string, unknown> | undefined,
  method: string,
  key: keyof typeof counts,
): void {
  const original = proto?.[method] as Method | undefined;
  if (!proto || !original) return;
  proto[method] = function (this: unknown, ...args: unknown[]) {
    counts[key]++;
    return original.apply(this, args);
  };
}

/** Running totals since the process started counting (installs the counters once). */
export function dawnCounts(): Readonly<typeof counts> {
  if (!installed) {
    installed = true;
    const g = globals as Record<string, { prototype: Record<string, unknown> } | undefined>;
    countCalls(g.GPUComputePassEncoder?.prototype, 'dispatchWorkgroups', 'dispatches');
    countCalls(g.GPUDevice?.prototype, 'createBuffer', 'buffers');
  }
  return { ...counts };
}
