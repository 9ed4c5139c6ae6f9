import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { gunzipSync, gzipSync } from 'node:zlib';
import { createLoader } from '../../src/data/index.js';
import { FASHION_MNIST_DIR } from '../../src/data/sources/mnist.js';
import { collect, config, labelsOf, REPO, shared, tempDir } from './helpers.js';

const SAMPLE = path.join(REPO, 'data', 'mnist-sample');

function idx(magic: number[], dims: number[], data: number[]): Buffer {
  const head = Buffer.alloc(4 + 4 * dims.length);
  Buffer.from(magic).copy(head);
  for (const [i, d] of dims.entries()) head.writeUInt32BE(d, 4 + 4 * i);
  return Buffer.concat([head, Buffer.from(data)]);
}

/** A CIFAR-10 record: label, then R, G, B planes (1024 each). Pixel (x, y) of plane p = (p*50 + y + x) & 255. */
function cifarRecord(label: number, shift = 0): Buffer {
  const r = Buffer.alloc(3073);
  r[0] = label;
  for (let p = 0; p < 3; p++)
    for (let i = 0; i < 1024; i++) r[1 + p * 1024 + i] = (p * 50 + (i >> 5) + (i & 31) + shift) & 255;
  return r;
}

test('the shipped MNIST sample trains on t10k[0:9000] and validates on t10k[9000:10000]', async () => {
  const cfg = config({
    source: 'mnist',
    path: '../data/mnist-sample',
    train: { from: 'test', range: [0, 9000] },
    val: { from: 'test', range: [9000, 10000] },
  });
  const loader = await createLoader(cfg, { seed: 0, batchSize: 1000, baseDir: path.join(REPO, 'configs') });
  assert.deepEqual(
    { ...loader.info, classNames: loader.info.classNames.length },
    {
      source: 'mnist',
      numClasses: 10,
      classNames: 10,
      height: 28,
      width: 28,
      channels: 1,
      mean: [0.1307],
      std: [0.3081],
      trainSize: 9000,
      valSize: 1000,
    },
  );
  const val = await collect(loader, 'val', 0);
  const raw = gunzipSync(readFileSync(path.join(SAMPLE, 't10k-labels-idx1-ubyte.gz'))).subarray(8);
  assert.deepEqual(labelsOf(val), [...raw.subarray(9000, 10000)], 'val = the last 1000 records, in order');
  const images = gunzipSync(readFileSync(path.join(SAMPLE, 't10k-images-idx3-ubyte.gz'))).subarray(16);
  assert.ok(
    Buffer.from(val[0].x.subarray(0, 784)).equals(images.subarray(9000 * 784, 9001 * 784)),
    'pixels as stored',
  );
  const train = await collect(loader, 'train', 0);
  assert.equal(train.length, 9);
  assert.deepEqual(
    labelsOf(train).sort(),
    [...raw.subarray(0, 9000)].sort(),
    'train = a permutation of the first 9000',
  );
  await loader.close();
});

test('MNIST idx: raw or gzipped; labels out of range are an error naming the file', async (t) => {
  const dir = tempDir(t);
  writeFileSync(
    path.join(dir, 'train-images-idx3-ubyte'),
    idx([0, 0, 8, 3], [3, 28, 28], new Array(3 * 784).fill(7)),
  );
  writeFileSync(path.join(dir, 'train-labels-idx1-ubyte.gz'), gzipSync(idx([0, 0, 8, 1], [3], [1, 2, 3])));
  writeFileSync(
    path.join(dir, 't10k-images.idx3-ubyte'),
    idx([0, 0, 8, 3], [2, 28, 28], new Array(2 * 784).fill(9)),
  );
  writeFileSync(path.join(dir, 't10k-labels.idx1-ubyte'), idx([0, 0, 8, 1], [2], [4, 5]));
  const loader = await createLoader(config({ source: 'mnist', path: dir }), {
    seed: 0,
    batchSize: 3,
    baseDir: '/',
  });
  assert.deepEqual(labelsOf(await collect(loader, 'train', 0)).sort(), [1, 2, 3]);
  assert.deepEqual(labelsOf(await collect(loader, 'val', 0)), [4, 5]);
  await loader.close();
  writeFileSync(path.join(dir, 't10k-labels.idx1-ubyte'), idx([0, 0, 8, 1], [2], [4, 10]));
  const bad = createLoader(config({ source: 'mnist', path: dir }), { seed: 0, batchSize: 3, baseDir: '/' });
  await assert.rejects(
    bad,
    /t10k-labels\.idx1-ubyte \[record 1\]: label 10 is out of range: expected 0\.\.9/,
  );
});

test('real MNIST and Fashion-MNIST read when present', async (t) => {
  await t.test('mnist', async (t) => {
    const dir = shared(t, 'mnist');
    if (!dir) return;
    const loader = await createLoader(config({ source: 'mnist', path: dir, train: { limit: 256 } }), {
      seed: 0,
      batchSize: 128,
      baseDir: '/',
    });
    assert.deepEqual([loader.info.trainSize, loader.info.valSize], [256, 10000]);
    const [b] = await collect(loader, 'train', 0);
    assert.equal(b.x.length, 128 * 784);
    await loader.close();
  });
  await t.test('fashion_mnist', async (t) => {
    if (!existsSync(FASHION_MNIST_DIR))
      return void t.skip(`${FASHION_MNIST_DIR} absent (apt-get install dataset-fashion-mnist)`);
    const loader = await createLoader(config({ source: 'fashion_mnist', val: { limit: 100 } }), {
      seed: 0,
      batchSize: 100,
      baseDir: '/',
    });
    assert.equal(loader.info.classNames[9], 'Ankle boot');
    assert.deepEqual([loader.info.trainSize, loader.info.valSize], [60000, 100]);
    assert.equal((await collect(loader, 'val', 0))[0].n, 100);
    await loader.close();
  });
});

test('CIFAR-10 binary: planes re-interleaved to HWC, label out of range is an error naming file and record', async (t) => {
  const dir = path.join(tempDir(t), 'cifar-10-batches-bin');
  const { mkdirSync } = await import('node:fs');
  mkdirSync(dir);
  for (let i = 1; i <= 5; i++)
    writeFileSync(
      path.join(dir, `data_batch_${i}.bin`),
      Buffer.concat([cifarRecord(i), cifarRecord(i + 1, 1)]),
    );
  writeFileSync(
    path.join(dir, 'test_batch.bin'),
    Buffer.concat([cifarRecord(9), cifarRecord(0, 2), cifarRecord(3, 3)]),
  );
  const cfg = config({ source: 'cifar10', path: path.dirname(dir), augment: 'none' });
  const loader = await createLoader(cfg, { seed: 0, batchSize: 4, baseDir: '/' });
  assert.deepEqual([loader.info.trainSize, loader.info.valSize, loader.info.numClasses], [10, 3, 10]);
  const [val] = await collect(loader, 'val', 0);
  assert.deepEqual([...val.y], [9, 0, 3]);
  // Pixel (x=5, y=2) of record 1 (shift 2): R = 2+5+2, G = 50+9, B = 100+9.
  const o = 3072 + (2 * 32 + 5) * 3;
  assert.deepEqual([...val.x.subarray(o, o + 3)], [9, 59, 109]);
  await loader.close();

  writeFileSync(path.join(dir, 'test_batch.bin'), Buffer.concat([cifarRecord(1), cifarRecord(10)]));
  await assert.rejects(
    createLoader(cfg, { seed: 0, batchSize: 4, baseDir: '/' }),
    /test_batch\.bin \[record 1\]: label 10 is out of range: expected 0\.\.9/,
  );
  writeFileSync(path.join(dir, 'test_batch.bin'), Buffer.alloc(3000));
  await assert.rejects(
    createLoader(cfg, { seed: 0, batchSize: 4, baseDir: '/' }),
    /test_batch\.bin: 3000 bytes is not a whole number of 3073-byte records/,
  );
});

test('CIFAR-10 augmentation: pad 4 + random crop + flip keeps the image content, shifted', async (t) => {
  const dir = tempDir(t);
  for (const f of [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`).concat('test_batch.bin')) {
    writeFileSync(path.join(dir, f), Buffer.concat(Array.from({ length: 8 }, (_, i) => cifarRecord(i))));
  }
  const loader = await createLoader(config({ source: 'cifar10', path: dir }), {
    seed: 1,
    batchSize: 40,
    baseDir: '/',
  });
  const [b] = await collect(loader, 'train', 0);
  assert.equal(b.n, 40);
  let zeros = 0;
  for (let i = 0; i < b.n; i++) {
    const img = b.x.subarray(i * 3072, (i + 1) * 3072);
    zeros += img[0] === 0 && img[1] === 0 && img[2] === 0 ? 1 : 0;
  }
  assert.ok(zeros > 0 && zeros < 40, `some crops start in the zero padding (${zeros}/40)`);
  await loader.close();
});

test('real CIFAR-10 (../shared/datasets): counts, class names, train mean', async (t) => {
  const root = shared(t, 'cifar10');
  if (!root) return;
  const loader = await createLoader(
    config({ source: 'cifar10', path: root, augment: 'none', val: { range: [0, 2000] } }),
    {
      seed: 0,
      batchSize: 500,
      baseDir: '/',
    },
  );
  assert.deepEqual([loader.info.trainSize, loader.info.valSize], [50000, 2000]);
  assert.equal(loader.info.classNames[0], 'airplane');
  const batches = await collect(loader, 'val', 0);
  const counts = new Array(10).fill(0);
  for (const l of labelsOf(batches)) counts[l]++;
  assert.ok(
    counts.every((c) => c > 100),
    `all classes present: ${counts}`,
  );
  let sum = 0;
  for (const b of batches) for (let i = 0; i < b.x.length; i += 3) sum += b.x[i];
  const meanR = sum / (2000 * 1024) / 255;
  assert.ok(Math.abs(meanR - 0.4914) < 0.02, `red mean ${meanR.toFixed(4)} near 0.4914`);
  await loader.close();
});
