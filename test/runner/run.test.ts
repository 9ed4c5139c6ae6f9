/** The runner end to end on a fake stack: run-dir files, resume equality, signals, NaN, refusals. */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { CSV_COLUMNS } from '../../src/runner/metrics-log.js';
import { runPaths } from '../../src/runner/rundir.js';
import { resumeRun, runFromConfig } from '../../src/runner/session.js';
import { StopSignal } from '../../src/runner/signals.js';
import { readEventFile } from '../../src/runner/tensorboard/writer.js';
import { EXIT, UserError } from '../../src/util/errors.js';
import { fakeStack } from './fake-stack.js';
import { learningRecords, quietOpts, readLines, runFake as run, tempDir, writeConfig } from './helpers.js';

describe('run directory', () => {
  it('holds every file, and they parse', async () => {
    const dir = tempDir();
    const r = await run(dir);
    assert.equal(r.exitCode, EXIT.OK);
    const p = runPaths(r.runDir);
    const cfg = parseYaml(readFileSync(p.config, 'utf8'));
    assert.equal(cfg.name, 'fake');
    assert.equal(cfg.train.epochs, 3);
    const meta = JSON.parse(readFileSync(p.meta, 'utf8'));
    for (const k of ['wtrain_version', 'git_sha', 'seed', 'backend', 'node', 'host', 'start_time'])
      assert.ok(k in meta, k);
    assert.equal(meta.backend.name, 'cpu');
    const recs = readLines(p.metrics);
    const epochs = recs.filter((x) => x.kind === 'epoch');
    assert.equal(epochs.length, 3);
    assert.deepEqual(
      epochs.map((e) => e.epoch),
      [1, 2, 3],
    );
    for (const k of CSV_COLUMNS) assert.ok(k in epochs[0], k);
    assert.equal(recs.filter((x) => x.kind === 'step').length, 7); // steps 2,4,...,14
    const csv = readFileSync(p.csv, 'utf8').trim().split('\n');
    assert.equal(csv.length, 4);
    assert.match(csv[0], /^epoch,step,train_loss/);
    const angles = readLines(p.angles);
    assert.equal(angles.length, 6 * 3); // at initialisation, then steps 3,6,9,12,15; x 3 layers
    assert.deepEqual(Object.keys(angles[0]).sort(), [
      'delta_angle',
      'epoch',
      'index',
      'layer',
      'matrix_angle',
      'phase',
      'step',
    ]);
    const events = readLines(p.events);
    assert.ok(events.some((e) => e.msg === 'epoch'));
    assert.ok(events.every((e) => typeof e.level === 'number' && typeof e.time === 'number'));
    const status = JSON.parse(readFileSync(p.status, 'utf8'));
    assert.equal(status.status, 'done');
    const ckpts = readdirSync(p.checkpoints).sort();
    assert.ok(ckpts.includes('best.wtc'));
    assert.equal(ckpts.filter((f) => f.startsWith('ckpt-')).length, 2);
    assert.ok(!ckpts.some((f) => f.endsWith('.tmp')));
    // TensorBoard: the same numbers as metrics.jsonl.
    const tfe = readdirSync(r.runDir).filter((f) => f.startsWith('events.out.tfevents.'));
    assert.equal(tfe.length, 1);
    const ev = readEventFile(path.join(r.runDir, tfe[0]));
    assert.equal(ev[0].fileVersion, 'brain.Event:2');
    const loss = ev.flatMap((e) =>
      e.scalars.filter((s) => s.tag === 'train/loss').map((s) => ({ step: e.step, v: s.value })),
    );
    const stepRecs = recs.filter((x) => x.kind === 'step');
    assert.equal(loss.length, stepRecs.length);
    for (const [i, l] of loss.entries()) assert.equal(l.v, Math.fround(stepRecs[i].train_loss));
    assert.ok(ev.some((e) => e.scalars.some((s) => s.tag.startsWith('angles/matrix/'))));
  });

  it('refuses an existing run directory without --resume auto, skips a finished one with it', async () => {
    const dir = tempDir();
    await run(dir);
    await assert.rejects(
      run(dir),
      (e: unknown) => e instanceof UserError && /already exists \(done\)/.test(e.message),
    );
    const again = await run(dir, fakeStack(), { resume: 'auto' });
    assert.equal(again.outcome, 'skipped');
  });
});

describe('resume', () => {
  it('after a crash, continues from the last checkpoint with identical metrics', async () => {
    const a = tempDir();
    const ra = await run(a);
    const b = tempDir();
    const crash = fakeStack({
      onStep: (s) => {
        if (s === 14) throw new Error('simulated crash');
      },
    });
    await assert.rejects(run(b, crash), /simulated crash/);
    assert.equal(JSON.parse(readFileSync(runPaths(path.join(b, 'run')).status, 'utf8')).status, 'failed');
    const rb = await resumeRun(path.join(b, 'run'), {}, { ...quietOpts, stack: fakeStack() });
    assert.equal(rb.exitCode, EXIT.OK);
    const pa = runPaths(ra.runDir);
    const pb = runPaths(rb.runDir);
    assert.deepEqual(learningRecords(pb.metrics), learningRecords(pa.metrics));
    assert.deepEqual(readLines(pb.angles), readLines(pa.angles));
    const meta = JSON.parse(readFileSync(pb.meta, 'utf8'));
    assert.equal(meta.resumes.length, 1);
    assert.match(meta.resumes[0].checkpoint, /ckpt-000000012\.wtc$/);
  });

  it('a stop request writes a checkpoint, exits 75, and resume continues to the same end', async () => {
    const a = tempDir();
    const ra = await run(a);
    const b = tempDir();
    const stop = new StopSignal();
    const r1 = await run(b, fakeStack({ onStep: (s) => s === 8 && stop.request('SIGTERM') }), {}, stop);
    assert.equal(r1.exitCode, EXIT.INTERRUPTED);
    const status = JSON.parse(readFileSync(runPaths(r1.runDir).status, 'utf8'));
    assert.equal(status.status, 'interrupted');
    assert.equal(status.step, 8);
    const r2 = await runFromConfig(
      { configFile: writeConfig(b), runDir: r1.runDir, resume: 'auto' },
      { ...quietOpts, stack: fakeStack() },
    );
    assert.equal(r2.exitCode, EXIT.OK);
    assert.deepEqual(
      learningRecords(runPaths(r2.runDir).metrics),
      learningRecords(runPaths(ra.runDir).metrics),
    );
  });

  it("a stop at an epoch's last batch resumes with that epoch's evaluation, identically", async () => {
    const a = tempDir();
    const ra = await run(a);
    const b = tempDir();
    const stop = new StopSignal();
    const r1 = await run(b, fakeStack({ onStep: (s) => s === 5 && stop.request() }), {}, stop);
    assert.equal(r1.exitCode, EXIT.INTERRUPTED);
    assert.equal(readLines(runPaths(r1.runDir).metrics).filter((x) => x.kind === 'epoch').length, 0);
    const r2 = await resumeRun(r1.runDir, {}, { ...quietOpts, stack: fakeStack() });
    assert.equal(r2.exitCode, EXIT.OK);
    assert.deepEqual(
      learningRecords(runPaths(r2.runDir).metrics),
      learningRecords(runPaths(ra.runDir).metrics),
    );
  });

  it('a stop between log intervals resumes to the same number of steps', async () => {
    const b = tempDir();
    const stop = new StopSignal();
    const r1 = await run(b, fakeStack({ onStep: (s) => s === 7 && stop.request('SIGINT') }), {}, stop);
    assert.equal(r1.exitCode, EXIT.INTERRUPTED);
    assert.ok(existsSync(path.join(runPaths(r1.runDir).checkpoints, 'ckpt-000000007.wtc')));
    const r2 = await resumeRun(r1.runDir, {}, { ...quietOpts, stack: fakeStack() });
    assert.equal(r2.exitCode, EXIT.OK);
    const last = readLines(runPaths(r2.runDir).metrics).at(-1);
    assert.equal(last.step, 15);
    assert.equal(last.kind, 'epoch');
  });

  it('refuses changed training-relevant fields unless forced; allows safe ones', async () => {
    const dir = tempDir();
    const stop = new StopSignal();
    const r1 = await run(dir, fakeStack({ onStep: (s) => s === 4 && stop.request() }), {}, stop);
    await assert.rejects(
      resumeRun(
        r1.runDir,
        { sets: ['optimizer.lr=0.1', 'train.seed=3'] },
        { ...quietOpts, stack: fakeStack() },
      ),
      (e: unknown) =>
        e instanceof UserError &&
        e.exitCode === EXIT.RESUME_REFUSED &&
        /optimizer\.lr: 0\.5 -> 0\.1/.test(e.message) &&
        /train\.seed: 0 -> 3/.test(e.message),
    );
    const r2 = await resumeRun(r1.runDir, { sets: ['train.epochs=4'] }, { ...quietOpts, stack: fakeStack() });
    assert.equal(r2.exitCode, EXIT.OK);
    assert.equal(readLines(runPaths(r2.runDir).metrics).filter((x) => x.kind === 'epoch').length, 4);
    const forced = await resumeRun(
      r1.runDir,
      { sets: ['optimizer.lr=0.1', 'train.epochs=5'], force: true },
      { ...quietOpts, stack: fakeStack() },
    );
    assert.equal(forced.exitCode, EXIT.OK);
  });
});

describe('stops', () => {
  it('a non-finite loss stops with exit 3, naming the step, keeping the last good checkpoint', async () => {
    const dir = tempDir();
    const said: string[] = [];
    const r = await runFromConfig(
      { configFile: writeConfig(dir), runDir: path.join(dir, 'run') },
      { ...quietOpts, stack: fakeStack({ nanAtStep: 6 }), say: (l) => said.push(l) },
    );
    assert.equal(r.exitCode, EXIT.NAN);
    assert.ok(
      said.some((l) => /non-finite loss at step 6/.test(l) && /ckpt-000000005\.wtc/.test(l)),
      said.join('\n'),
    );
    const p = runPaths(r.runDir);
    const files = readdirSync(p.checkpoints).filter((f) => f.startsWith('ckpt-'));
    assert.deepEqual(files.sort(), ['ckpt-000000004.wtc', 'ckpt-000000005.wtc']);
    assert.equal(JSON.parse(readFileSync(p.status, 'utf8')).status, 'failed');
  });

  it('a device error stops the run before the next checkpoint: none is written after it', async () => {
    const dir = tempDir();
    let error: unknown;
    try {
      await runFromConfig(
        { configFile: writeConfig(dir), runDir: path.join(dir, 'run') },
        { ...quietOpts, stack: fakeStack({ deviceErrorAtStep: 6 }) },
      );
    } catch (e) {
      error = e;
    }
    assert.match(String(error), /fake device error since step 6/);
    const p = runPaths(path.join(dir, 'run'));
    const files = readdirSync(p.checkpoints).filter((f) => f.startsWith('ckpt-'));
    assert.deepEqual(files.sort(), ['ckpt-000000004.wtc', 'ckpt-000000005.wtc']);
    assert.equal(JSON.parse(readFileSync(p.status, 'utf8')).status, 'failed');
  });

  it('mirror-only warm-up epochs come first, then the warm-up of the learning rate', async () => {
    const dir = tempDir();
    const r = await run(dir, fakeStack({ warmupEpochs: 1 }));
    assert.equal(r.exitCode, EXIT.OK);
    const recs = readLines(runPaths(r.runDir).metrics);
    const mirror = recs.filter((x) => x.phase === 'mirror');
    assert.ok(mirror.length >= 2);
    assert.ok(mirror.every((x) => x.step === 0 && x.lr === 0 && x.train_loss === null));
    const firstTrain = recs.find((x) => x.kind === 'step' && x.phase === 'train');
    assert.equal(firstTrain.mirror_steps, 5);
    // Warm-up starts after the mirror epoch: lr at epoch 1.2 is 0.2 x peak (warm-up over 1 epoch).
    assert.ok(Math.abs(firstTrain.lr - 0.5 * 0.2) < 1e-12, String(firstTrain.lr));
    assert.equal(recs.at(-1).step, 10);
  });
});
