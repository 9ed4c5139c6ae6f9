/**
 * Exact resume with the real engine on the cpu backend: a run killed with SIGKILL at a
 * random step and resumed ends with metrics identical to an uninterrupted run. Tiny on
 * purpose (ResNet-20 x1/16 on 8x8 digits). SIGTERM/SIGINT handling: test/runner/signals.test.ts.
 * The same on webgpu: test/webgpu/kill_resume.test.ts.
 */
import { describe, it } from 'node:test';
import { engineMissing } from './helpers.js';
import { killResumeCase } from './kill_resume.js';

const skip = engineMissing() ?? false;

// KP (B updated with W) and DFA (fixed B of another shape than W, NaN matrix angles below the head)
for (const rule of ['kp', 'dfa']) {
  describe(`exact resume with the real engine (cpu backend, ${rule})`, { skip }, () => {
    const c = killResumeCase('cpu', `{ name: ${rule} }`);
    it('an uninterrupted run', c.uninterrupted);
    it('SIGKILL at a random step, then --resume auto: identical metrics and angles', c.killedAndResumed);
  });
}
