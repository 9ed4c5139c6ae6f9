/**
 * What a user sees when a run cannot start or cannot write: one line on stderr naming
 * the file (or folder) and what to do, the documented exit code, no stack trace, no
 * backend diagnosis, no misleading ENOENT. Read-only folders are tried as an unprivileged
 * user when the tests run as root (root may write anywhere).
 */
import assert from 'node:assert/strict';
import { execFileSync, type SpawnOptions } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { EXIT } from '../../src/util/errors.js';
import { type Done, runMain, wtrain } from './helpers.js';

const asRoot = process.getuid?.() === 0;
const user: SpawnOptions = asRoot ? { uid: 65534, gid: 65534, env: { ...process.env, HOME: tmpdir() } } : {};

function oneLine(r: Done, code: number, pattern: RegExp): void {
  const lines = r.stderr.trim().split('\n');
  assert.equal(r.code, code, r.stderr);
  assert.equal(lines.length, 1, `one line expected:\n${r.stderr}`);
  assert.match(lines[0], pattern);
  assert.doesNotMatch(r.stderr, /internal error|ENOENT|\n\s+at |Vulkan|"stack"/);
}

/** A folder everyone may enter (tests' temp folders are private by default). */
function openDir(prefix: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  chmodSync(dir, 0o755);
  return dir;
}

describe('a run that cannot start', () => {
  it('a preset without its data set: where data.path is set, what to put there, --smoke', async () => {
    const dir = openDir('wtrain-nodata-');
    const r = await wtrain(['run', 'configs/resnet50-kp.yaml', '--run-dir', path.join(dir, 'run')]);
    oneLine(
      r,
      EXIT.USAGE,
      /^configs\/_base-imagenet\.yaml:\d+:\d+ data\.path: .*data\/imagenet does not exist \(expected: a folder with train\/ and val\/.*--set data\.path=.*--smoke$/,
    );
    assert.equal(existsSync(path.join(dir, 'run')), false);
  });

  it('a range outside the data: one line, exit 2, no run directory left', async () => {
    const dir = openDir('wtrain-range-');
    const runDir = path.join(dir, 'run');
    const r = await wtrain([
      'run',
      'configs/quickstart.yaml',
      '--set',
      'data.train.range=[0,99999]',
      '--run-dir',
      runDir,
    ]);
    oneLine(r, EXIT.USAGE, /data\.train\.range/);
    assert.equal(existsSync(runDir), false);
  });
});

describe('a folder that cannot be written', () => {
  const root = openDir('wtrain-ro-');
  const ro = path.join(root, 'ro');
  mkdirSync(ro);
  chmodSync(ro, 0o555);
  // A run to resume and report on, read-only: its config and a checkpoint's name suffice.
  const run = path.join(root, 'ro-run');
  mkdirSync(path.join(run, 'checkpoints'), { recursive: true });
  after(() => chmodSync(run, 0o755));
  const ready = (async () => {
    const c = await runMain(['config', 'configs/quickstart.yaml', '--smoke']);
    writeFileSync(path.join(run, 'config.yaml'), c.stdout);
    writeFileSync(path.join(run, 'checkpoints', 'ckpt-000000002.wtc'), '');
    chmodSync(path.join(run, 'checkpoints'), 0o555);
    chmodSync(run, 0o555);
  })();

  it('a read-only runs_root', async () => {
    const r = await wtrain(
      ['run', 'configs/quickstart.yaml', '--smoke', '--set', `run.runs_root=${ro}`],
      undefined,
      user,
    );
    oneLine(
      r,
      EXIT.USAGE,
      /^cannot create folder .*ro\/quickstart-smoke-\d+-\d+\/checkpoints: no permission to write in .*ro \(EACCES\); choose a writable place: --run-dir DIR or --set run\.runs_root=DIR$/,
    );
  });

  it('a read-only --run-dir parent', async () => {
    const r = await wtrain(
      ['run', 'configs/quickstart.yaml', '--smoke', '--run-dir', path.join(ro, 'x')],
      undefined,
      user,
    );
    oneLine(
      r,
      EXIT.USAGE,
      /^cannot create folder .*ro\/x\/checkpoints: no permission to write in .*ro \(EACCES\)/,
    );
  });

  it('resume of a read-only run: nothing is touched, and the line says how to continue', async () => {
    await ready;
    const r = await wtrain(['resume', run], undefined, user);
    oneLine(
      r,
      EXIT.USAGE,
      /^cannot write .*ro-run\/run\.lock: no permission to write in .*ro-run \(EACCES\); the files written so far are intact: copy .*ro-run to a writable folder and resume the copy$/,
    );
  });

  it('report into a read-only folder', async () => {
    await ready;
    for (const args of [
      ['report', run, '--out', path.join(ro, 'rep')],
      ['report', run],
    ]) {
      const r = await wtrain(args, undefined, user);
      oneLine(
        r,
        EXIT.USAGE,
        /^cannot create folder .*: no permission to write in .* \(EACCES\); choose another folder with --out DIR$/,
      );
    }
  });

  it('a read-only file system (not a misleading ENOENT)', async (t) => {
    const mnt = openDir('wtrain-rofs-');
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=64k', 'tmpfs', mnt], { stdio: 'ignore' });
    } catch {
      t.skip('cannot mount a read-only file system here (needs root)');
      return;
    }
    try {
      const r = await wtrain([
        'run',
        'configs/quickstart.yaml',
        '--smoke',
        '--run-dir',
        path.join(mnt, 'sub'),
      ]);
      oneLine(
        r,
        EXIT.USAGE,
        /^cannot create folder .*sub\/checkpoints: .*wtrain-rofs-\w+ is on a read-only file system \(EROFS\)/,
      );
    } finally {
      execFileSync('umount', [mnt]);
    }
  });
});
