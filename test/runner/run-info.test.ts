/**
 * What a run tells about itself: the learning rate `auto` came to (meta.json, the log),
 * how long it will take (JSON log lines, a warning when far too long), eval progress
 * that shows eval progress, and no tfjs banner.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { Eta, fasterOptions, formatDuration } from '../../src/runner/eta.js';
import { ConsoleStream } from '../../src/runner/logger.js';
import { counting, createProgress } from '../../src/runner/progress.js';
import { runPaths } from '../../src/runner/rundir.js';
import { resumeRun } from '../../src/runner/session.js';
import { fakeStack } from './fake-stack.js';
import { quietOpts, readLines, runFake, tempDir } from './helpers.js';

describe('learning rate', () => {
  it('lr: auto stays in config.yaml; meta.json and the log say what it came to', async () => {
    const r = await runFake(tempDir(), fakeStack(), { sets: ['optimizer.lr=auto', 'train.epochs=2'] });
    const p = runPaths(r.runDir);
    assert.equal(parseYaml(readFileSync(p.config, 'utf8')).optimizer.lr, 'auto');
    const lr = { peak: (0.1 * 4) / 256, source: 'auto', batch_size: 4, per_256_images: 0.1 };
    assert.deepEqual(JSON.parse(readFileSync(p.meta, 'utf8')).learning_rate, lr);
    const start = readLines(p.events).find((e) => e.msg.startsWith('starting'));
    assert.equal(
      start.msg,
      'starting: peak lr 0.0015625 (optimizer.lr auto: 0.1 per 256 images, at batch 4)',
    );
    assert.deepEqual(start.learning_rate, lr);
    await resumeRun(r.runDir, { sets: ['train.epochs=3'] }, { ...quietOpts, stack: fakeStack() });
    assert.deepEqual(JSON.parse(readFileSync(p.meta, 'utf8')).resumes[0].learning_rate, lr);
  });

  it('a number is recorded as the config gave it', async () => {
    const r = await runFake(tempDir(), fakeStack(), { sets: ['train.epochs=2'] });
    const meta = JSON.parse(readFileSync(runPaths(r.runDir).meta, 'utf8'));
    assert.deepEqual(meta.learning_rate, { peak: 0.5, source: 'config', batch_size: 4 });
  });
});

describe('throughput', () => {
  it("an epoch's img/s counts its training only, not the evaluation after it", async () => {
    const r = await runFake(tempDir(), fakeStack({ evalDelayMs: 400 }), { sets: ['train.epochs=2'] });
    const epochs = readLines(runPaths(r.runDir).metrics).filter((x) => x.kind === 'epoch');
    assert.equal(epochs.length, 2);
    // 5 batches of 4 images take milliseconds; with the 400 ms evaluation counted in,
    // an epoch could not exceed 20 / 0.4 = 50 img/s.
    for (const e of epochs) assert.ok(e.img_per_s > 200, `img_per_s ${e.img_per_s}`);
  });

  it('a step record whose interval spans an epoch end leaves out its evaluation', async () => {
    const r = await runFake(tempDir(), fakeStack({ evalDelayMs: 400 }), {
      sets: ['train.epochs=3', 'train.log_every=3'],
    });
    const steps = readLines(runPaths(r.runDir).metrics).filter((x) => x.kind === 'step');
    // steps 6 and 12 span the ends of epochs 1 and 2 (5 batches each): 12 images, with the
    // 400 ms evaluation counted in they could not exceed 30 img/s.
    assert.deepEqual(
      steps.map((x) => x.step),
      [3, 6, 9, 12, 15],
    );
    for (const x of steps) assert.ok(x.img_per_s > 200, `step ${x.step}: img_per_s ${x.img_per_s}`);
  });
});

describe('time to finish', () => {
  const logger = () => {
    const lines: { level: string; obj: object; msg: string }[] = [];
    const log = (level: string) => (obj: object, msg: string) => lines.push({ level, obj, msg });
    return { lines, info: log('info'), warn: log('warn') };
  };

  it('per-epoch time, total steps and ETA from the first batches; evaluations timed apart', () => {
    const log = logger();
    const eta = new Eta({
      batchesPerEpoch: 10,
      endIter: 100,
      totalSteps: 100,
      evalEvery: 1,
      logger: log,
      start: 0,
    });
    assert.deepEqual(eta.fields(0), { total_steps: 100 });
    eta.batchDone(1, 1000); // the first batch pays for set-up: not timed
    eta.batchDone(2, 3000);
    assert.deepEqual(eta.fields(2), { total_steps: 100 });
    eta.evalTook(5);
    eta.batchDone(3, 10_000); // 2 s per batch + a 5 s evaluation
    assert.deepEqual(eta.fields(3), { total_steps: 100, epoch_s: 25, eta_s: 97 * 2 + 10 * 5 });
    assert.equal(log.lines.length, 1);
    assert.match(log.lines[0].msg, /^estimate: 25 s per epoch, 100 steps, 4 min to finish$/);
  });

  it('warns once when a run would take far too long, naming faster options', () => {
    const log = logger();
    const eta = new Eta({
      batchesPerEpoch: 625,
      endIter: 625 * 90,
      totalSteps: 625 * 90,
      evalEvery: 1,
      backend: { name: 'wasm', threads: 1 },
      logger: log,
      start: 0,
    });
    eta.batchDone(1, 600_000); // one ResNet-50 step at batch 2048 on one thread: 10 minutes
    eta.batchDone(2, 1_200_000);
    const warn = log.lines.filter((l) => l.level === 'warn');
    assert.equal(warn.length, 1);
    assert.match(
      warn[0].msg,
      /^this run would take about 12\.8 months on wasm with 1 thread, far beyond a reasonable run; faster: /,
    );
    assert.match(warn[0].msg, /backend\.name: webgpu on a machine with a GPU/);
    assert.deepEqual(fasterOptions({ name: 'wasm', threads: 1 }, 8).slice(0, 1), [
      'backend.threads: 8 (this machine has 8 cores)',
    ]);
    assert.equal(fasterOptions({ name: 'webgpu', threads: 1 }, 8).length, 1);
    assert.equal(formatDuration(86400 * 200), '6.6 months');
  });

  it('the JSON log lines carry total_steps, epoch_s and eta_s', async () => {
    const r = await runFake(tempDir());
    const steps = readLines(runPaths(r.runDir).events).filter((e) => e.kind === 'step' || e.kind === 'epoch');
    assert.ok(steps.every((e) => e.total_steps === 15));
    assert.ok(steps.slice(2).every((e) => typeof e.eta_s === 'number' && typeof e.epoch_s === 'number'));
    const metrics = readLines(runPaths(r.runDir).metrics);
    assert.ok(
      metrics.every((m) => !('eta_s' in m)),
      'metrics.jsonl keeps its fields',
    );
  });
});

describe('output', () => {
  it('the eval bar counts val batches and shows no train numbers', async () => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (d) => (text += d));
    const progress = createProgress('bars', new ConsoleStream(true), out);
    progress.startEpoch({ epoch: 0, epochs: 1, batches: 50, startBatch: 0 });
    progress.record({ kind: 'step', train_loss: 0.123456, train_top1: 0.5, img_per_s: 99 } as never);
    progress.tick(50, 'train');
    progress.startEval(4);
    const ticked: number[] = [];
    for await (const _ of counting(
      (async function* () {
        yield* [1, 2, 3];
      })(),
      (n) => ticked.push(n),
    )) {
    }
    assert.deepEqual(ticked, [1, 2, 3]);
    progress.tick(3, 'eval');
    progress.stop();
    const last =
      text
        .split(/\r|\n/)
        .filter((l) => l.includes('eval'))
        .at(-1) ?? '';
    assert.match(last, /eval\s+\|.*\| 3\/4 \| loss - \| top-1 - \| - img\/s/, text);
  });

  it('no tfjs banner from the cpu backend', () => {
    const script = `
      import * as tf from '@tensorflow/tfjs-core';
      import './src/backend/cpu.ts';
      await tf.setBackend('cpu');
      tf.square(tf.tensor([1, 2])).dataSync();
    `;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: path.resolve(import.meta.dirname, '../..'),
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    assert.doesNotMatch(r.stdout + r.stderr, /looks like you are running TensorFlow\.js/);
  });
});
