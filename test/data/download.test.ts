/**
 * `wtrain data download`: the CIFAR-10 presets read where it installs, what it installs is
 * git-ignored, and `--from` a folder checks content, not sizes: a re-ordered or modified
 * copy is reported as such, never installed as the official files.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { loadDataConfig } from '../../src/cli/data.js';
import { CIFAR_TEST, CIFAR_TRAIN, recordSetDigest } from '../../src/data/cifar-check.js';
import { DOWNLOADS, type Downloadable, downloadDataset, installFolder } from '../../src/data/download.js';
import { DataError } from '../../src/data/errors.js';
import { cifarDir } from '../../src/data/sources/cifar10.js';
import { REPO, shared, tempDir } from './helpers.js';

test('the CIFAR-10 presets read the folder `data download cifar10` installs into', (t) => {
  // The repo's layout in a temp folder: configs/ beside data/, the download done.
  const root = tempDir(t);
  mkdirSync(path.join(root, 'configs'));
  for (const f of ['_base-cifar10.yaml', 'cifar10-resnet20-kp.yaml'])
    copyFileSync(path.join(REPO, 'configs', f), path.join(root, 'configs', f));
  const installed = installFolder('cifar10', path.join(root, 'data'));
  mkdirSync(installed, { recursive: true });
  writeFileSync(path.join(installed, CIFAR_TEST), '');
  const { cfg } = loadDataConfig(path.join(root, 'configs', 'cifar10-resnet20-kp.yaml'));
  assert.equal(cfg.source, 'cifar10');
  assert.equal(cifarDir(cfg.path!), installed);
});

test('what `data download` installs under data/ is git-ignored', (t) => {
  try {
    execFileSync('git', ['rev-parse', '--git-dir'], { cwd: REPO, stdio: 'ignore' });
  } catch {
    t.skip('not a git checkout');
    return;
  }
  for (const name of Object.keys(DOWNLOADS) as Downloadable[]) {
    const file = path.relative(REPO, path.join(installFolder(name, path.join(REPO, 'data')), 'x.bin'));
    // check-ignore exits 0 when the path is ignored, 1 when not.
    assert.doesNotThrow(
      () => execFileSync('git', ['check-ignore', '-q', '--no-index', file], { cwd: REPO }),
      `${file} is not git-ignored`,
    );
  }
});

test('the record-set digest ignores order and sees any changed byte', () => {
  const rec = (label: number, fill: number) =>
    Buffer.concat([Buffer.from([label]), Buffer.alloc(3072, fill)]);
  const a = Buffer.concat([rec(1, 10), rec(2, 20), rec(3, 30)]);
  const b = Buffer.concat([rec(3, 30), rec(1, 10)]);
  assert.equal(recordSetDigest([a]), recordSetDigest([b, rec(2, 20)]));
  const c = Buffer.from(a);
  c[5000] ^= 1;
  assert.notEqual(recordSetDigest([c]), recordSetDigest([a]));
});

test('--from a re-ordered CIFAR-10 copy is reported as one, and nothing is installed', async (t) => {
  const src = shared(t, 'cifar10/cifar-10-batches-bin');
  if (!src) return;
  const dir = tempDir(t);
  // ../shared's copy holds the official images and labels, its records shuffled (its README).
  await assert.rejects(downloadDataset('cifar10', { dir, from: path.dirname(src) }), (e: Error) => {
    assert.ok(e instanceof DataError);
    assert.match(
      e.message,
      /a re-ordered copy, not the official files: it holds the official CIFAR-10 images and labels, but data_batch_1\.bin begins with labels/,
    );
    assert.match(e.message, /test_batch\.bin begins with labels/);
    assert.match(e.message, /data\.path: /);
    assert.equal(e.message.split('\n').length, 1);
    return true;
  });
  assert.throws(() => readFileSync(installFolder('cifar10', dir)), /ENOENT/, 'nothing installed');

  // One pixel changed in one file: other content, whatever the order.
  const changed = path.join(dir, 'changed');
  mkdirSync(changed);
  for (const f of [...CIFAR_TRAIN, 'batches.meta.txt']) symlinkSync(path.join(src, f), path.join(changed, f));
  const test0 = readFileSync(path.join(src, CIFAR_TEST));
  test0[1234] ^= 1;
  writeFileSync(path.join(changed, CIFAR_TEST), test0);
  await assert.rejects(
    downloadDataset('cifar10', { dir, from: changed }),
    /not the official CIFAR-10: the images or labels of test_batch\.bin differ from the official files'/,
  );
});
