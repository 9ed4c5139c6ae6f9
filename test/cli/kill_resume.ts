/**
 * Exact resume with the real engine, shared by the cpu test (test/cli/kill-resume.test.ts)
 * and the webgpu one (test/webgpu/kill_resume.test.ts): an uninterrupted run, then a run
 * killed with SIGKILL at a random step and resumed, must log identical metrics and angles.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runPaths } from '../../src/runner/rundir.js';
import { learningRecords, readLines } from '../runner/helpers.js';
import { ROOT, start, wtrain } from './helpers.js';

/** ResNet-20 x1/16 on 8x8 digits, 16 steps, checkpoints every 3; `rule` is YAML. */
function tinyConfig(dir: string, backend: string, rule: string): string {
  const file = path.join(dir, 'tiny.yaml');
  writeFileSync(
    file,
    `model: { arch: resnet20, width: 0.0625 }
rule: ${rule}
schedule: { warmup_epochs: 1, decay_epochs: [1.5] }
train: { epochs: 2, batch_size: 4, log_every: 2, angles_every: 4, eval_batches: 2 }
backend: { name: ${backend} }
data:
  source: mnist
  path: ${path.join(ROOT, 'data', 'mnist-sample')}
  image_size: 8
  train: { from: test, range: [0, 32] }
  val: { from: test, range: [32, 40] }
run: { checkpoint_every: 3, checkpoint_unit: step, keep_checkpoints: 2, report: false, progress: lines }
`,
  );
  return file;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Steps logged so far in a run directory. */
function loggedStep(dir: string): number {
  const f = runPaths(dir).metrics;
  if (!existsSync(f)) return 0;
  const steps = readFileSync(f, 'utf8')
    .split('\n')
    .filter((l) => l.endsWith('}'))
    .map((l) => JSON.parse(l).step as number);
  return Math.max(0, ...steps);
}

/** Start a run, kill it once it has logged `step`; also the last step it had logged then. */
async function killAt(args: string[], dir: string, step: number, signal: NodeJS.Signals) {
  const { child, done } = start(args);
  while (loggedStep(dir) < step && child.exitCode === null) await sleep(20);
  const reached = loggedStep(dir);
  child.kill(signal);
  return { ...(await done), reached };
}

/**
 * The two halves of the check, for `it` blocks: run A, then B killed, resumed and
 * compared to A. `lastStep`: the run's last training step (16; fewer when a WM mirror
 * warm-up takes part of the 2 epochs).
 */
export function killResumeCase(backend: string, rule: string, lastStep = 16) {
  const tmp = mkdtempSync(path.join(tmpdir(), 'wtrain-kill-'));
  const cfg = tinyConfig(tmp, backend, rule);
  const runA = path.join(tmp, 'a');
  return {
    async uninterrupted(): Promise<void> {
      const a = await wtrain(['run', cfg, '--run-dir', runA]);
      assert.equal(a.code, 0, a.stderr);
      assert.equal(readLines(runPaths(runA).metrics).at(-1).step, lastStep);
    },
    async killedAndResumed(): Promise<void> {
      const runB = path.join(tmp, 'b');
      // an even step in [4, lastStep − 4]; WTRAIN_KILL_STEP replays a given one
      const target =
        Number(process.env.WTRAIN_KILL_STEP) || 4 + 2 * Math.floor(Math.random() * ((lastStep - 6) / 2));
      const killed = await killAt(['run', cfg, '--run-dir', runB], runB, target, 'SIGKILL');
      const at = `killed at logged step ${killed.reached} (target ${target}; replay: WTRAIN_KILL_STEP=${target})`;
      assert.equal(killed.signal, 'SIGKILL', `the run ended before step ${target}: ${killed.stderr}`);
      assert.equal(JSON.parse(readFileSync(runPaths(runB).status, 'utf8')).status, 'running');
      const resumed = await wtrain(['run', cfg, '--run-dir', runB, '--resume', 'auto']);
      assert.equal(resumed.code, 0, resumed.stderr);
      assert.deepEqual(
        learningRecords(runPaths(runB).metrics),
        learningRecords(runPaths(runA).metrics),
        `metrics, ${at}`,
      );
      assert.deepEqual(readLines(runPaths(runB).angles), readLines(runPaths(runA).angles), `angles, ${at}`);
      const meta = JSON.parse(readFileSync(runPaths(runB).meta, 'utf8'));
      assert.equal(meta.resumes.length, 1);
      assert.equal(meta.backend.name, backend, 'the run used the backend under test');
    },
  };
}
