/**
 * Exact resume on webgpu (lavapipe in CI), with WM: its mirror noise drawn on the device,
 * the in-place SGD and BatchNorm kernels and the mirror-step counter all have to come
 * back from a checkpoint exactly. A run killed with SIGKILL at a random step and resumed
 * logs the same metrics and angles as an uninterrupted one.
 */
import { describe, it } from 'node:test';
import { killResumeCase } from '../cli/kill_resume.js';
import { webgpu } from './gpu.js';

const init = await webgpu();
const skip = init.ok
  ? false
  : `no WebGPU adapter: ${init.reason.split('\n')[0]} (see scripts/ci/install-lavapipe.sh)`;

describe('exact resume with the real engine (webgpu backend, WM)', { skip }, () => {
  // half an epoch (4 batches) of mirror-only warm-up, then 12 training steps
  const c = killResumeCase('webgpu', '{ name: wm, wm: { mirror_epochs: 0.5 } }', 12);
  it('an uninterrupted run', c.uninterrupted);
  it('SIGKILL at a random step, then --resume auto: identical metrics and angles', c.killedAndResumed);
});
