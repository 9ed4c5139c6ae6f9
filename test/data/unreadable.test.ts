/** Data that cannot be read at all: the tools say so and stop, instead of hanging or crashing. */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { benchLoader } from '../../src/data/bench.js';
import { downloadDataset } from '../../src/data/download.js';
import { DataError } from '../../src/data/errors.js';
import { config, makeImage, REPO, tempDir, writeFiles } from './helpers.js';

test('data bench on a split with no readable image stops with an error (it looped forever)', async (t) => {
  const root = tempDir(t);
  writeFiles(root, {
    'train/a/0.jpg': await makeImage(20, 20),
    'train/b/1.jpg': await makeImage(20, 20),
    'val/a/0.jpg': 'not a jpeg',
    'val/b/1.jpg': '',
  });
  const cfg = config({ source: 'imagefolder', path: root, image_size: 16 });
  await assert.rejects(
    benchLoader(cfg, { threads: [0], images: 10, batchSize: 2, split: 'val' }),
    (e: unknown) => e instanceof DataError && /the val split yields no readable batch/.test(e.message),
  );
});

test('data download --from with a truncated .gz names the file (it was an internal zlib error)', async (t) => {
  const dir = tempDir(t);
  const from = path.join(dir, 'from');
  mkdirSync(from);
  const sample = path.join(REPO, 'data/mnist-sample');
  for (const f of ['t10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz'])
    copyFileSync(path.join(sample, f), path.join(from, f));
  const images = readFileSync(path.join(sample, 't10k-images-idx3-ubyte.gz'));
  writeFileSync(path.join(from, 'train-images-idx3-ubyte.gz'), images.subarray(0, images.length >> 1));
  writeFileSync(path.join(from, 'train-labels-idx1-ubyte.gz'), '');
  await assert.rejects(
    downloadDataset('mnist', { dir, from }),
    (e: unknown) =>
      e instanceof DataError &&
      /train-images-idx3-ubyte\.gz: not a complete gzip file .*copy it again/.test(e.message),
  );
});
