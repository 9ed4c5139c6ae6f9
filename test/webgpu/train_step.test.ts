/**
 * One whole training step on webgpu = the same step on cpu, for every learning rule:
 * every tensor of the trainer's state (weights, B, momentum buffers, BatchNorm
 * statistics) changes by the same amount within 1e-4 of the largest change
 * (scripts/bench-gpu/numerics.ts, which the GPU benchmark also runs). This covers the
 * fused webgpu paths together: grouped SGD, BatchNorm with the ReLU and running
 * statistics folded in, the loss head, and each rule's feedback path.
 *
 * ResNet-20 at width 1/8, 16 px, batch 2. (ResNet-18 needs 64 px here: on 1x1 maps a
 * BN → 3x3 conv (centre tap only) → BN chain makes some updates pure rounding noise,
 * e.g. dβ = Σ dy = 0, which no relative comparison can judge.)
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compareWithCpu } from '../../scripts/bench-gpu/numerics.js';
import type { AnyRule } from '../../scripts/bench-gpu/options.js';
import { useWebgpu } from './gpu.js';

for (const rule of ['bp', 'fa', 'ss', 'kp', 'wm'] as AnyRule[]) {
  test(`one ${rule.toUpperCase()} training step, ResNet-20: webgpu = cpu for every state tensor`, async (t) => {
    if (!(await useWebgpu(t))) return;
    const net = {
      arch: 'resnet20' as const,
      width: 0.125,
      batch: 2,
      size: 16,
      label: 'resnet20 w1/8 b2 16px',
    };
    const r = await compareWithCpu(net, rule);
    assert.ok(r.tensors > 100, `only ${r.tensors} state tensors compared`);
    assert.ok(r.ok, `${r.worstTensor}: rel. error ${r.worstRelErr.toExponential(2)} > ${r.tolerance}`);
  });
}
