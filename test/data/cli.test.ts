import assert from 'node:assert/strict';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { type TestContext, test } from 'node:test';
import { Command } from 'commander';
import { loadDataConfig, registerDataCommands } from '../../src/cli/data.js';
import { ConfigError } from '../../src/config/errors.js';
import { downloadDataset } from '../../src/data/download.js';
import { DataError } from '../../src/data/errors.js';
import { makeImage, shared, tarBuffer, tempDir, writeFiles } from './helpers.js';

/** Run `wtrain data ...` in-process; returns what it printed. User errors reject (main prints them). */
async function run(t: TestContext, ...args: string[]): Promise<{ out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  t.mock.method(console, 'log', (...a: unknown[]) => void out.push(a.join(' ')));
  t.mock.method(console, 'error', (...a: unknown[]) => void err.push(a.join(' ')));
  const program = new Command('wtrain').exitOverride();
  registerDataCommands(program);
  try {
    await program.parseAsync(['data', ...args], { from: 'user' });
  } finally {
    t.mock.restoreAll();
  }
  return { out: out.join('\n'), err: err.join('\n') };
}

test('data config files: a bare data section or a data: key; paths relative to the file', (t) => {
  const dir = tempDir(t);
  const bare = path.join(dir, 'bare.yaml');
  writeFileSync(bare, 'source: mnist\npath: ../mnist\ntrain: { from: test, range: [0, 9000] }\n');
  const a = loadDataConfig(bare);
  assert.equal(a.cfg.path, path.resolve(dir, '../mnist'));
  assert.deepEqual(a.cfg.train.range, [0, 9000]);
  const wrapped = path.join(dir, 'wrapped.yml');
  writeFileSync(wrapped, 'data:\n  source: cifar10\n  path: c10\n  augmnt: none\n');
  assert.throws(
    () => loadDataConfig(wrapped),
    (e: Error) =>
      e instanceof ConfigError &&
      /wrapped\.yml:4:3 data\.augmnt: unknown key \(did you mean 'augment'\?\)/.test(e.message),
  );
});

test('data inspect prints format, classes, splits, sizes; user errors are DataErrors', async (t) => {
  const root = tempDir(t);
  for (let i = 0; i < 4; i++)
    writeFiles(root, { [`train/n0${i % 2}/${i}.JPEG`]: await makeImage(40 + 10 * i, 30) });
  writeFiles(root, {
    'val/n00/v.JPEG': await makeImage(64, 64, { space: 'b-w' }),
    'val/n00/w.JPEG': 'garbage',
  });
  const r = await run(t, 'inspect', root, '--sample', '10');
  assert.match(r.out, /^format {8}imagefolder/m);
  assert.match(r.out, /^classes {7}2: n00, n01/m);
  assert.match(r.out, /^train {9}4 samples/m);
  assert.match(r.out, /shorter side {2}<64: 4 \| 64-127: 1/);
  assert.match(r.out, /b-w 1ch: 1/);
  assert.match(r.out, /decode check {2}5 decoded, 1 corrupt/);
  assert.match(r.out, /skipped {7}1 \(corrupt_image: 1\)/);
  assert.match(r.err, /warning: data: skipped bad sample \(reason=corrupt_image file=.*w\.JPEG/);
  await assert.rejects(run(t, 'inspect', path.join(root, 'nope')), (e: Error) => {
    assert.ok(e instanceof DataError, 'a UserError: printed as one line, exit 2');
    assert.equal(e.message, `${path.join(root, 'nope')}: not found`);
    return true;
  });
  await assert.rejects(
    run(t, 'bench', 'x.yaml', '--threads', 'a'),
    /argument 'a' is invalid\. expected integers >= 0/,
  );
});

test('data download: offline fails with a clear message; --from checks what it installs', async (t) => {
  const dir = tempDir(t);
  t.mock.method(globalThis, 'fetch', async () => {
    throw Object.assign(new TypeError('fetch failed'), {
      cause: new Error('getaddrinfo ENOTFOUND www.cs.toronto.edu'),
    });
  });
  await assert.rejects(downloadDataset('cifar10', { dir }), (e: Error) => {
    assert.ok(e instanceof DataError);
    assert.match(
      e.message,
      /could not download cifar-10-binary\.tar\.gz:\n {2}https:\/\/www\.cs\.toronto\.edu\/~kriz\/cifar-10-binary\.tar\.gz: fetch failed \(getaddrinfo ENOTFOUND/,
    );
    assert.match(e.message, /offline.*--from/s);
    return true;
  });
  t.mock.restoreAll();
  await assert.rejects(
    downloadDataset('imagenet', { dir }),
    /unknown dataset 'imagenet': expected one of mnist, fashion_mnist, cifar10/,
  );
  writeFiles(dir, { 'fake/data_batch_1.bin': 'x' });
  await assert.rejects(
    downloadDataset('cifar10', { dir, from: path.join(dir, 'fake') }),
    /data_batch_1\.bin: expected the CIFAR-10 binary batch of 30730000 bytes/,
  );
  writeFiles(dir, { 'c.tar.gz': 'not the archive' });
  await assert.rejects(
    downloadDataset('cifar10', { dir, from: path.join(dir, 'c.tar.gz') }),
    /c\.tar\.gz: MD5 [0-9a-f]+, expected c32a1d4ab5d03f1284b67883e8d87530/,
  );
});

test('data download mnist --from a folder verifies the content checksums', async (t) => {
  const src = shared(t, 'mnist');
  if (!src) return;
  const dir = tempDir(t);
  const where = await downloadDataset('mnist', { dir, from: src });
  assert.equal(where, path.join(dir, 'mnist'));
  assert.equal(readdirSync(where).length, 4);
  assert.ok(existsSync(path.join(where, 'train-images-idx3-ubyte.gz')));
  // The shipped sample has only t10k: the train files are reported missing.
  await assert.rejects(
    downloadDataset('mnist', { dir, from: path.resolve(import.meta.dirname, '../../data/mnist-sample') }),
    /train-images-idx3-ubyte\.gz \(or train-images-idx3-ubyte\) not found/,
  );
});

test('data bench --split train and data prepare --splits train on shards need no val_path', async (t) => {
  const dir = tempDir(t);
  const entries = [];
  for (let i = 0; i < 6; i++)
    entries.push(
      { name: `s${i}.jpg`, data: await makeImage(12, 10) },
      { name: `s${i}.cls`, data: String(i % 2) },
    );
  writeFiles(dir, { 'train-0.tar': await tarBuffer(entries) });
  const file = path.join(dir, 'data.yaml');
  writeFileSync(
    file,
    'source: webdataset\npath: train-{0..0}.tar\nnum_classes: 2\nimage_size: 8\nworkers: 0\n',
  );
  const r = await run(
    t,
    'bench',
    file,
    '--split',
    'train',
    '--threads',
    '0',
    '--images',
    '4',
    '--batch-size',
    '2',
  );
  assert.match(r.out, /\| webdataset train \| main \| [45] \|/);
  await assert.rejects(run(t, 'bench', file, '--split', 'val', '--threads', '0'), /data\.val_path: required/);
  const p = await run(t, 'prepare', file, '--splits', 'train', '--out', path.join(dir, 'cache'));
  assert.match(p.out, /wrote .*cache: train 6 \(0 skipped\)/);
});
