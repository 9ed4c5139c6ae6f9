/** One process per run directory (run.lock), and what the runner does with damaged, short or finished runs. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { evaluateRun } from '../../src/runner/evaluate.js';
import { acquireRunLock, STALE_MS } from '../../src/runner/lock.js';
import { ensureRunDir, pidAlive, runPaths } from '../../src/runner/rundir.js';
import { resumeRun, runFromConfig } from '../../src/runner/session.js';
import { StopSignal } from '../../src/runner/signals.js';
import { EXIT, UserError } from '../../src/util/errors.js';
import { fakeStack } from './fake-stack.js';
import { learningRecords, quietOpts, readLines, tempDir, writeConfig } from './helpers.js';

const refused = (re: RegExp) => (e: unknown) => e instanceof UserError && re.test(e.message);

function writeLock(dir: string, owner: { pid: number; host: string }): void {
  writeFileSync(runPaths(dir).lock, JSON.stringify({ ...owner, started: '2026-01-01T00:00:00Z' }));
}

/** A pid that has exited and been reaped. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0']);
  await new Promise((resolve) => child.on('exit', resolve));
  return child.pid!;
}

describe('run lock', () => {
  it('refuses a second holder while the first lives, and is free again after release', () => {
    const dir = ensureRunDir(tempDir()).dir;
    const lock = acquireRunLock(dir);
    assert.throws(() => acquireRunLock(dir), refused(/is running: pid \d+ on this machine/));
    lock.release();
    assert.ok(!existsSync(runPaths(dir).lock));
    acquireRunLock(dir).release();
  });

  it('takes over a lock whose process has exited', async () => {
    const dir = ensureRunDir(tempDir()).dir;
    writeLock(dir, { pid: await deadPid(), host: (await import('node:os')).hostname() });
    const lock = acquireRunLock(dir);
    assert.equal(JSON.parse(readFileSync(runPaths(dir).lock, 'utf8')).pid, process.pid);
    lock.release();
  });

  it('a zombie (killed, never reaped) counts as gone', { skip: process.platform !== 'linux' }, async () => {
    // sh starts `sleep 0` in the background, then becomes `sleep 5`, which never reaps it.
    const child = spawn('sh', ['-c', 'sleep 0 & echo $!; exec sleep 5']);
    const pid = Number(
      await new Promise<string>((resolve) => child.stdout.once('data', (d) => resolve(String(d)))),
    );
    try {
      for (let i = 0; i < 50 && !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z '); i++) {
        await new Promise((r) => setTimeout(r, 20));
      }
      process.kill(pid, 0); // still answers
      assert.equal(pidAlive(pid), false);
      assert.equal(pidAlive(process.pid), true);
    } finally {
      child.kill();
    }
  });

  it("another machine's lock: held while refreshed (unless forced), stale after STALE_MS", () => {
    const dir = ensureRunDir(tempDir()).dir;
    writeLock(dir, { pid: 1234, host: 'node-a' });
    assert.throws(
      () => acquireRunLock(dir),
      refused(/is running: pid 1234 on host node-a .*refreshed \d+ s ago.*--force/),
    );
    const said: string[] = [];
    acquireRunLock(dir, { force: true, say: (l) => said.push(l) }).release();
    assert.match(said.join('\n'), /taking over .* from pid 1234 on host node-a .*\(--force\)/);
    writeLock(dir, { pid: 1234, host: 'node-a' });
    const old = new Date(Date.now() - STALE_MS - 5000);
    utimesSync(runPaths(dir).lock, old, old);
    acquireRunLock(dir, { say: (l) => said.push(l) }).release();
    assert.match(said.at(-1)!, /taking over .* from pid 1234 on host node-a .*not refreshed for \d+ s/);
  });

  it('the holder keeps its lock fresh', async () => {
    const dir = ensureRunDir(tempDir()).dir;
    const lock = acquireRunLock(dir, { heartbeatMs: 20 });
    const old = new Date(Date.now() - STALE_MS - 5000);
    utimesSync(runPaths(dir).lock, old, old);
    await new Promise((r) => setTimeout(r, 200));
    assert.ok(Date.now() - statSync(runPaths(dir).lock).mtimeMs < 5000);
    lock.release();
  });

  it('run --resume auto and resume refuse a run directory another process holds', async () => {
    const root = tempDir();
    const runDir = path.join(root, 'run');
    const stop = new StopSignal();
    const engine = fakeStack({ onStep: (s) => s === 4 && stop.request() });
    await runFromConfig(
      { configFile: writeConfig(root), runDir },
      { ...quietOpts, stack: engine, signals: stop },
    );
    const lock = acquireRunLock(runDir); // "another process": this one
    try {
      await assert.rejects(
        resumeRun(runDir, {}, { ...quietOpts, stack: fakeStack() }),
        refused(/is running/),
      );
      await assert.rejects(
        runFromConfig(
          { configFile: writeConfig(root), runDir, resume: 'auto' },
          { ...quietOpts, stack: fakeStack() },
        ),
        refused(/is running/),
      );
    } finally {
      lock.release();
    }
    const r = await resumeRun(runDir, {}, { ...quietOpts, stack: fakeStack() });
    assert.equal(r.exitCode, EXIT.OK);
    assert.ok(!existsSync(runPaths(runDir).lock), 'released at the end');
  });
});

/** A run directory whose process crashed during optimiser step `step`. */
async function crashedRun(step: number): Promise<string> {
  const root = tempDir();
  const runDir = path.join(root, 'run');
  const crash = fakeStack({ onStep: (s) => s === step && crashNow() });
  await assert.rejects(
    runFromConfig({ configFile: writeConfig(root), runDir }, { ...quietOpts, stack: crash }),
  );
  return runDir;
}

function crashNow(): never {
  throw new Error('simulated crash');
}

describe('damaged and finished runs', () => {
  it('resume skips a corrupt latest checkpoint (kept as .corrupt) and ends as an unbroken run', async () => {
    const a = tempDir();
    const ra = await runFromConfig(
      { configFile: writeConfig(a), runDir: path.join(a, 'run') },
      { ...quietOpts, stack: fakeStack() },
    );
    const runDir = await crashedRun(14);
    const latest = path.join(runPaths(runDir).checkpoints, 'ckpt-000000012.wtc');
    const bytes = readFileSync(latest);
    bytes[20] ^= 0x10; // one flipped bit in the header
    writeFileSync(latest, bytes);
    const before = JSON.parse(readFileSync(runPaths(runDir).status, 'utf8'));
    const said: string[] = [];
    const rb = await resumeRun(runDir, {}, { ...quietOpts, stack: fakeStack(), say: (l) => said.push(l) });
    assert.equal(rb.exitCode, EXIT.OK);
    assert.match(
      said.join('\n'),
      /ckpt-000000012\.wtc: corrupt header; moved to .*ckpt-000000012\.wtc\.corrupt, resuming from .*ckpt-000000010\.wtc/,
    );
    assert.ok(existsSync(`${latest}.corrupt`));
    assert.deepEqual(learningRecords(runPaths(runDir).metrics), learningRecords(runPaths(ra.runDir).metrics));
    assert.ok(before.step > 0, 'status.json kept the progress of the crashed session');
  });

  it('no intact checkpoint: a one-line error naming them, and status.json keeps its progress', async () => {
    const runDir = await crashedRun(9);
    const status0 = JSON.parse(readFileSync(runPaths(runDir).status, 'utf8'));
    const ckpts = readdirSync(runPaths(runDir).checkpoints).filter((f) => f.startsWith('ckpt-'));
    assert.ok(ckpts.length >= 2, ckpts.join());
    for (const f of ckpts) writeFileSync(path.join(runPaths(runDir).checkpoints, f), 'not a checkpoint');
    await assert.rejects(
      resumeRun(runDir, {}, { ...quietOpts, stack: fakeStack() }),
      (e: unknown) =>
        e instanceof UserError &&
        e.exitCode === EXIT.USAGE &&
        /no intact checkpoint to resume from: .*ckpt-000000008\.wtc: not a wtrain checkpoint/.test(e.message),
    );
    assert.deepEqual(
      readdirSync(runPaths(runDir).checkpoints).filter((f) => f.startsWith('ckpt-')),
      ckpts,
      'nothing renamed',
    );
    const status1 = JSON.parse(readFileSync(runPaths(runDir).status, 'utf8'));
    assert.equal(status1.status, 'failed');
    assert.deepEqual([status1.epoch, status1.step], [status0.epoch, status0.step]);
  });

  it('status.json follows the checkpoints while training', async () => {
    const root = tempDir();
    const runDir = path.join(root, 'run');
    const seen: number[] = [];
    const engine = fakeStack({
      onStep: (s) => {
        if (s === 6) seen.push(JSON.parse(readFileSync(runPaths(runDir).status, 'utf8')).step);
      },
    });
    await runFromConfig({ configFile: writeConfig(root), runDir }, { ...quietOpts, stack: engine });
    assert.deepEqual(seen, [5]); // the checkpoint at the end of epoch 1 (step 5), before step 6
  });

  it('a finished run forced with changed fields is left as it was: nothing trains, config.yaml unchanged', async () => {
    const root = tempDir();
    const runDir = path.join(root, 'run');
    await runFromConfig({ configFile: writeConfig(root), runDir }, { ...quietOpts, stack: fakeStack() });
    const config = readFileSync(runPaths(runDir).config, 'utf8');
    const rows = readLines(runPaths(runDir).metrics).length;
    const said: string[] = [];
    const opts = { ...quietOpts, stack: fakeStack(), say: (l: string) => said.push(l) };
    const r1 = await resumeRun(runDir, { sets: ['optimizer.lr=0.05'], force: true }, opts);
    const r2 = await runFromConfig(
      { configFile: writeConfig(root), runDir, resume: 'auto', sets: ['optimizer.lr=0.05'], force: true },
      opts,
    );
    assert.deepEqual([r1.outcome, r2.outcome], ['skipped', 'skipped']);
    assert.equal(readFileSync(runPaths(runDir).config, 'utf8'), config);
    assert.equal(readLines(runPaths(runDir).metrics).length, rows);
    assert.match(said.join('\n'), /already done, nothing to do \(config left unchanged/);
  });

  it('a divergence names the epoch of the bad step, not of its detection', async () => {
    const root = tempDir();
    const said: string[] = [];
    // 1 mirror-only epoch (5 batches), then NaN from step 3 (batch 8), seen at the log step 4.
    await runFromConfig(
      { configFile: writeConfig(root), runDir: path.join(root, 'run') },
      { ...quietOpts, stack: fakeStack({ warmupEpochs: 1, nanAtStep: 3 }), say: (l) => said.push(l) },
    );
    assert.match(said.join('\n'), /non-finite loss at step 3 \(epoch 1\.60\)/);
  });

  it('data that ends early or is unreadable: the run goes on with what there is, and says so', async () => {
    const root = tempDir();
    const short = await runFromConfig(
      { configFile: writeConfig(root), runDir: path.join(root, 'short') },
      { ...quietOpts, stack: fakeStack({ trainYields: 3, valBatches: 0, listingSkips: 7 }) },
    );
    assert.equal(short.exitCode, EXIT.OK);
    const epochs = readLines(runPaths(short.runDir).metrics).filter((r) => r.kind === 'epoch');
    assert.deepEqual(
      epochs.map((r) => [r.epoch, r.step, r.val_top1, r.skipped]),
      [
        [1, 3, null, 7],
        [2, 6, null, 7],
        [3, 9, null, 7],
      ],
    );
    const events = readFileSync(runPaths(short.runDir).events, 'utf8');
    assert.match(events, /the train split ended 2 batches before the end of epoch 0/);
    assert.match(events, /the val split yielded no readable sample/);
    await assert.rejects(
      runFromConfig(
        { configFile: writeConfig(root), runDir: path.join(root, 'none') },
        { ...quietOpts, stack: fakeStack({ trainYields: 0 }) },
      ),
      refused(/the train split yields no readable batch/),
    );
    await assert.rejects(
      evaluateRun(short.runDir, { checkpoint: 'last', stack: fakeStack({ valBatches: 0 }) }),
      refused(/the val split yielded no readable sample to evaluate/),
    );
  });

  it('a train batch with no readable sample (sharded data) is stepped over, and a resume meets the same gap', async () => {
    const gaps = { unreadableTrainBatches: [1, 4] };
    const a = tempDir();
    const whole = await runFromConfig(
      { configFile: writeConfig(a), runDir: path.join(a, 'run') },
      { ...quietOpts, stack: fakeStack(gaps) },
    );
    const epochs = readLines(runPaths(whole.runDir).metrics).filter((r) => r.kind === 'epoch');
    assert.deepEqual(
      epochs.map((r) => [r.epoch, r.step]),
      [
        [1, 3],
        [2, 6],
        [3, 9],
      ],
    );
    const events = readFileSync(runPaths(whole.runDir).events, 'utf8');
    assert.match(events, /train batch 1 of epoch 0 had no readable sample: skipped/);
    assert.match(events, /the train split ended 1 batches before the end of epoch 0/); // batch 4, the last
    const b = tempDir();
    const runDir = path.join(b, 'run');
    const crash = fakeStack({ ...gaps, onStep: (s) => s === 5 && crashNow() });
    await assert.rejects(
      runFromConfig({ configFile: writeConfig(b), runDir }, { ...quietOpts, stack: crash }),
    );
    await resumeRun(runDir, {}, { ...quietOpts, stack: fakeStack(gaps) });
    assert.deepEqual(
      learningRecords(runPaths(runDir).metrics),
      learningRecords(runPaths(whole.runDir).metrics),
    );
  });
});
