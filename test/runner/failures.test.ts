/**
 * Failures a user causes or must fix: missing data (checked before anything is created or
 * a backend chosen), data the loader refuses, no intact checkpoint, a full disk, a double
 * Ctrl-C. Each is one line with the documented exit code, recorded in status.json, and
 * nothing already written is lost.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError } from '../../src/config/errors.js';
import { DataError } from '../../src/data/errors.js';
import { readCheckpointFile } from '../../src/runner/checkpoint-format.js';
import { evaluateRun } from '../../src/runner/evaluate.js';
import { runPaths } from '../../src/runner/rundir.js';
import { resumeRun, runFromConfig } from '../../src/runner/session.js';
import { StorageError, storageError } from '../../src/runner/storage.js';
import { EXIT, UserError } from '../../src/util/errors.js';
import { fakeStack } from './fake-stack.js';
import { learningRecords, quietOpts, readLines, runFake, tempDir, writeConfig } from './helpers.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const status = (dir: string) => JSON.parse(readFileSync(runPaths(dir).status, 'utf8'));

/** A fake engine that records whether a backend was chosen. */
function watchedStack(createLoader?: () => never) {
  const engine = fakeStack();
  const seen = { backend: false };
  return {
    seen,
    stack: {
      ...engine,
      initBackend: async () => {
        seen.backend = true;
        return engine.initBackend({ name: 'cpu', threads: 1 });
      },
      createLoader: createLoader ?? engine.createLoader,
    },
  };
}

describe('data mistakes', () => {
  it('a data path that does not exist: one located line, no run directory, no backend', async () => {
    const dir = tempDir();
    const { stack: engine, seen } = watchedStack();
    const config = path.join(dir, 'fake.yaml');
    writeFileSync(config, 'data:\n  source: imagefolder\n  path: ../no-imagenet-here\n');
    const runDir = path.join(dir, 'run');
    await assert.rejects(
      runFromConfig({ configFile: config, runDir }, { ...quietOpts, stack: engine }),
      (e: unknown) =>
        e instanceof ConfigError &&
        e.exitCode === EXIT.USAGE &&
        /fake\.yaml:\d+:\d+ data\.path: .*no-imagenet-here does not exist \(expected: a folder with train\/ and val\//.test(
          e.message,
        ) &&
        /--set data\.path=/.test(e.message) &&
        !e.message.includes('\n'),
    );
    assert.equal(existsSync(runDir), false, 'no run directory left behind');
    assert.equal(seen.backend, false, 'no backend chosen');
  });

  it('data the loader refuses: the backend is not chosen and a new run leaves no folder', async () => {
    const dir = tempDir();
    const { stack: engine, seen } = watchedStack(() => {
      throw new DataError("data.train.range: [0, 99999] goes past the split's 10000 samples");
    });
    const runDir = path.join(dir, 'run');
    await assert.rejects(
      runFromConfig({ configFile: writeConfig(dir), runDir }, { ...quietOpts, stack: engine }),
      (e: unknown) => e instanceof DataError && /goes past/.test(e.message),
    );
    assert.equal(seen.backend, false);
    assert.equal(existsSync(runDir), false);
  });

  it('no intact checkpoint to resume: exit 2 in status.json, events.log without a stack', async () => {
    const dir = tempDir();
    const r = await runFake(dir);
    const ckpts = path.join(r.runDir, 'checkpoints');
    for (const f of readdirSync(ckpts)) truncateSync(path.join(ckpts, f), 100);
    await assert.rejects(
      resumeRun(r.runDir, { sets: ['train.epochs=4'] }, { ...quietOpts, stack: fakeStack() }),
      (e: unknown) =>
        e instanceof UserError && e.exitCode === EXIT.USAGE && /no intact checkpoint/.test(e.message),
    );
    const s = status(r.runDir);
    assert.equal(s.status, 'failed');
    assert.equal(s.exit_code, EXIT.USAGE);
    const last = readLines(runPaths(r.runDir).events).at(-1);
    assert.match(last.error, /no intact checkpoint/);
    assert.ok(!JSON.stringify(last).includes('stack'), JSON.stringify(last));
  });
});

describe('wtrain eval', () => {
  it('reads a run whose config.yaml spells out the default decays; moved data is one located line', async () => {
    const dir = tempDir();
    const file = writeConfig(dir);
    writeFileSync(file, readFileSync(file, 'utf8').replace(/schedule:\n( {2}.*\n)+/, '')); // default decays
    const r = await runFromConfig(
      { configFile: file, runDir: path.join(dir, 'run') },
      { ...quietOpts, stack: fakeStack() },
    );
    const saved = readFileSync(runPaths(r.runDir).config, 'utf8');
    assert.match(saved, /decay_epochs:\n\s+- 32/);
    const e = await evaluateRun(r.runDir, { checkpoint: 'last', stack: fakeStack() });
    assert.ok(e.metrics.samples > 0);
    writeFileSync(runPaths(r.runDir).config, saved.replace(/path: null/, 'path: /no/such/mnist'));
    await assert.rejects(
      evaluateRun(r.runDir, { checkpoint: 'last', stack: fakeStack() }),
      (err: unknown) =>
        err instanceof ConfigError &&
        /run\/config\.yaml:\d+:\d+ data\.path: \/no\/such\/mnist does not exist/.test(err.message),
    );
  });
});

describe('a full disk', () => {
  const full = existsSync('/dev/full') ? false : 'needs /dev/full';

  it('a checkpoint that does not fit: one line, exit 2, earlier files intact, resume ends identical', {
    skip: full,
  }, async () => {
    const whole = await runFake(tempDir());
    const dir = tempDir();
    const runDir = path.join(dir, 'run');
    mkdirSync(runPaths(runDir).checkpoints, { recursive: true });
    // The temp file the 8th batch's checkpoint is written to writes to /dev/full (ENOSPC).
    const tmp = path.join(runPaths(runDir).checkpoints, `.ckpt-000000008.wtc.${process.pid}.tmp`);
    symlinkSync('/dev/full', tmp);
    await assert.rejects(
      runFake(dir),
      (e: unknown) =>
        e instanceof StorageError &&
        e.exitCode === EXIT.USAGE &&
        /^cannot write .*checkpoints\/ckpt-000000008\.wtc: no space left on the device holding .*checkpoints \(ENOSPC\); the files written so far are intact: free some space, then: wtrain resume /.test(
          e.message,
        ),
    );
    assert.equal(status(runDir).exit_code, EXIT.USAGE);
    const left = readdirSync(runPaths(runDir).checkpoints).sort();
    assert.deepEqual(left, ['best.wtc', 'ckpt-000000004.wtc', 'ckpt-000000005.wtc'], 'no temp file left');
    for (const f of left) readCheckpointFile(path.join(runPaths(runDir).checkpoints, f)); // CRCs hold
    const r2 = await resumeRun(runDir, {}, { ...quietOpts, stack: fakeStack() });
    assert.equal(r2.exitCode, EXIT.OK);
    assert.deepEqual(
      learningRecords(runPaths(runDir).metrics),
      learningRecords(runPaths(whole.runDir).metrics),
    );
  });

  it('a metrics line that does not fit names metrics.jsonl', { skip: full }, async () => {
    const dir = tempDir();
    const runDir = path.join(dir, 'run');
    mkdirSync(runDir);
    symlinkSync('/dev/full', runPaths(runDir).metrics);
    await assert.rejects(
      runFake(dir),
      (e: unknown) =>
        e instanceof StorageError &&
        /^cannot write .*run\/metrics\.jsonl: no space left .* \(ENOSPC\); free some space/.test(e.message),
    );
  });
});

describe('a second Ctrl-C', () => {
  it('exits 130 at once, and status.json and run.lock say so', () => {
    const dir = tempDir();
    const script = `
      import path from 'node:path';
      import { runFromConfig } from './src/runner/session.ts';
      import { fakeStack } from './test/runner/fake-stack.ts';
      import { quietOpts, writeConfig } from './test/runner/helpers.ts';
      const dir = ${JSON.stringify(dir)};
      const engine = fakeStack({ onStep: (s) => {
        if (s === 6) { process.kill(process.pid, 'SIGINT'); process.kill(process.pid, 'SIGINT'); }
      } });
      await runFromConfig({ configFile: writeConfig(dir), runDir: path.join(dir, 'run') },
        { ...quietOpts, stack: engine, signals: true });
    `;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    assert.equal(r.status, EXIT.SIGINT_FORCED, r.stderr);
    const runDir = path.join(dir, 'run');
    const s = status(runDir);
    assert.equal(s.status, 'interrupted');
    assert.equal(s.exit_code, EXIT.SIGINT_FORCED);
    assert.match(
      s.message,
      /second SIGINT: exited at once without a checkpoint; a resume continues from the last checkpoint, .*ckpt-00000000[45]\.wtc/,
    );
    assert.equal(existsSync(runPaths(runDir).lock), false);
  });
});

describe('storage errors', () => {
  it('a refused read says cannot read, a refused write cannot write', () => {
    const errno = (syscall: string) =>
      Object.assign(new Error(`EACCES: permission denied, ${syscall} '/nowhere/labels.txt'`), {
        code: 'EACCES',
        syscall,
        path: '/nowhere/labels.txt',
      });
    assert.equal(
      storageError(errno('scandir'))?.message,
      'cannot read /nowhere/labels.txt: no permission (EACCES)',
    );
    assert.match(
      storageError(errno('open'))?.message ?? '',
      /^cannot write \/nowhere\/labels\.txt: no permission to write/,
    );
  });
});
