/**
 * Logged train metrics do not depend on when checkpoints are written (the trainer sums in
 * float32 on the device: reading the sums at a checkpoint changed the 7th-8th digit of
 * train_loss with the checkpoint cadence), and a run stopped by a signal between log
 * intervals resumes to exactly the uninterrupted run's numbers.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { runPaths } from '../../src/runner/rundir.js';
import { resumeRun } from '../../src/runner/session.js';
import { StopSignal } from '../../src/runner/signals.js';
import { EXIT } from '../../src/util/errors.js';
import { fakeStack } from './fake-stack.js';
import { learningRecords, quietOpts, readLines, runFake, tempDir } from './helpers.js';

const cadence = (every: number) =>
  runFake(tempDir(), fakeStack(), { sets: [`run.checkpoint_every=${every}`] });

describe('train metrics', () => {
  it('are the same whatever the checkpoint cadence', async () => {
    const base = learningRecords(runPaths((await cadence(0)).runDir).metrics);
    assert.ok(base.some((r) => r.kind === 'step'));
    for (const every of [1, 3]) {
      const recs = learningRecords(runPaths((await cadence(every)).runDir).metrics);
      assert.deepEqual(recs, base, `checkpoint_every ${every}`);
    }
  });

  it('a stop between log intervals resumes to the uninterrupted numbers, digit for digit', async () => {
    const whole = await runFake(tempDir());
    const dir = tempDir();
    const stop = new StopSignal();
    // log_every 2: the stop after step 7 splits the interval of steps 7-8.
    const r1 = await runFake(dir, fakeStack({ onStep: (s) => s === 7 && stop.request('SIGINT') }), {}, stop);
    assert.equal(r1.exitCode, EXIT.INTERRUPTED);
    const r2 = await resumeRun(path.join(dir, 'run'), {}, { ...quietOpts, stack: fakeStack() });
    assert.equal(r2.exitCode, EXIT.OK);
    const [a, b] = [runPaths(whole.runDir), runPaths(r2.runDir)];
    assert.deepEqual(learningRecords(b.metrics), learningRecords(a.metrics));
    assert.deepEqual(readLines(b.angles), readLines(a.angles));
  });
});
