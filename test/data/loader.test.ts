import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { encodeExample } from '../../src/data/formats/example.js';
import { writeTfRecordFile } from '../../src/data/formats/tfrecord.js';
import { createLoader } from '../../src/data/index.js';
import type { Batch } from '../../src/data/types.js';
import { collect, config, labelsOf, makeImage, tempDir, truncatedJpeg, writeFiles } from './helpers.js';

/** CIFAR-10 files with `n` records per file, record i labelled i % 10 and filled with value i. */
function cifarDir(dir: string, n: number): string {
  const rec = (i: number) => {
    const r = Buffer.alloc(3073, i & 255);
    r[0] = i % 10;
    return r;
  };
  for (const [k, f] of [1, 2, 3, 4, 5]
    .map((i) => `data_batch_${i}.bin`)
    .concat('test_batch.bin')
    .entries()) {
    writeFileSync(path.join(dir, f), Buffer.concat(Array.from({ length: n }, (_, i) => rec(k * n + i))));
  }
  return dir;
}

/** TFRecord shards `s-0..s-{shards-1}` of `per` JPEGs each; record j of shard s has label (s*per+j) % 10. */
async function tfrecordShards(dir: string, shards: number, per: number): Promise<void> {
  for (let s = 0; s < shards; s++) {
    const recs = [];
    for (let j = 0; j < per; j++) {
      const k = s * per + j;
      recs.push(
        encodeExample({ image: await makeImage(12, 10, { rgb: [0, (k * 9) & 255, 0] }), label: k % 10 }),
      );
    }
    await writeTfRecordFile(path.join(dir, `s-${s}.tfrecord`), recs);
  }
}

const same = (a: Batch[], b: Batch[]) => {
  assert.equal(a.length, b.length);
  a.forEach((x, i) => {
    assert.deepEqual([...x.y], [...b[i].y], `labels of batch ${i}`);
    assert.ok(Buffer.from(x.x).equals(Buffer.from(b[i].x)), `pixels of batch ${i}`);
    assert.equal(x.index, b[i].index);
  });
};

test('indexed source: order is a pure function of (seed, epoch); resuming at k yields the tail', async (t) => {
  const dir = cifarDir(tempDir(t), 20);
  const cfg = config({ source: 'cifar10', path: dir });
  const opts = { seed: 7, batchSize: 8, baseDir: '/' };
  const a = await createLoader(cfg, opts);
  const b = await createLoader(cfg, opts);
  assert.equal(a.batchesPerEpoch('train'), 12, '100 samples / 8, last partial batch dropped');
  assert.equal(a.batchesPerEpoch('val'), 3, '20 samples / 8, last partial batch kept');
  const e0 = await collect(a, 'train', 0);
  same(e0, await collect(b, 'train', 0));
  same(e0.slice(5), await collect(b, 'train', 0, 5));
  assert.deepEqual(
    e0.map((x) => x.index),
    [...Array(12).keys()],
  );
  const e1 = await collect(a, 'train', 1);
  assert.notDeepEqual(labelsOf(e0), labelsOf(e1), 'a new epoch, a new order');
  const other = await createLoader(cfg, { ...opts, seed: 8 });
  assert.notDeepEqual(labelsOf(e0), labelsOf(await collect(other, 'train', 0)));
  const val = await collect(a, 'val', 3);
  assert.deepEqual(
    val.map((x) => x.n),
    [8, 8, 4],
  );
  assert.deepEqual(labelsOf(val), labelsOf(await collect(b, 'val', 0)), 'val is never shuffled');
  assert.deepEqual(await collect(a, 'train', 0, 12), []);
  for (const l of [a, b, other]) await l.close();
});

test('streamed shards: shard shuffle + shuffle buffer are seeded; resuming at k yields the tail', async (t) => {
  const dir = tempDir(t);
  await tfrecordShards(dir, 3, 10);
  const cfg = config({
    source: 'tfrecord',
    path: 's-{0..2}.tfrecord',
    val_path: 's-{0..2}.tfrecord',
    num_classes: 10,
    image_size: 8,
    shuffle_buffer: 8,
  });
  const opts = { seed: 1, batchSize: 4, baseDir: dir };
  const a = await createLoader(cfg, opts);
  const b = await createLoader(cfg, opts);
  assert.equal(a.batchesPerEpoch('train'), 7);
  const e0 = await collect(a, 'train', 0);
  same(e0, await collect(b, 'train', 0));
  same(e0.slice(4), await collect(b, 'train', 0, 4));
  const e1 = await collect(a, 'train', 1);
  assert.notDeepEqual(labelsOf(e0), labelsOf(e1));
  assert.notDeepEqual(
    labelsOf(e0),
    labelsOf(e0)
      .slice()
      .sort((x, y) => x - y),
    'shuffled',
  );
  const val = await collect(a, 'val', 0);
  assert.deepEqual(
    labelsOf(val),
    Array.from({ length: 30 }, (_, i) => i % 10),
    'val in shard order',
  );
  // limit: the epoch stops after that many samples of its stream
  const lim = await createLoader({ ...cfg, train: { ...cfg.train, limit: 9 } }, opts);
  assert.equal(lim.batchesPerEpoch('train'), 2);
  for (const l of [a, b, lim]) await l.close();
});

test('a sample that fails to decode shortens its batch; later batches keep their samples', async (t) => {
  const root = tempDir(t);
  for (let i = 0; i < 6; i++) writeFiles(root, { [`train/c${i % 2}/${i}.jpg`]: await makeImage(12, 12) });
  writeFiles(root, { 'train/c0/bad.jpg': await truncatedJpeg(), 'val/c0/a.jpg': await makeImage(12, 12) });
  const loader = await createLoader(config({ source: 'imagefolder', path: root, image_size: 8 }), {
    seed: 0,
    batchSize: 7,
    baseDir: '/',
  });
  const [batch] = await collect(loader, 'train', 0);
  assert.equal(batch.n, 6);
  assert.equal(batch.x.length, 6 * 8 * 8 * 3);
  assert.deepEqual(loader.stats(), { skipped: 1, byReason: { corrupt_image: 1 } });
  await loader.close();
});

test('worker threads and the main thread produce identical batches', async (t) => {
  const root = tempDir(t);
  for (let i = 0; i < 12; i++) {
    writeFiles(root, {
      [`train/c${i % 3}/${i}.JPEG`]: await makeImage(20 + i, 16, { rgb: [0, i * 20, 90] }),
    });
  }
  writeFiles(root, { 'val/c1/v.JPEG': await makeImage(30, 18) });
  const cfg = config({ source: 'imagefolder', path: root, image_size: 16 });
  const inline = await createLoader(cfg, { seed: 5, batchSize: 4, baseDir: '/' });
  const pooled = await createLoader({ ...cfg, workers: 2 }, { seed: 5, batchSize: 4, baseDir: '/' });
  same(await collect(inline, 'train', 2), await collect(pooled, 'train', 2));
  same(await collect(inline, 'val', 0), await collect(pooled, 'val', 0));
  await inline.close();
  await pooled.close();
});

test('range and limit select fixed subsets, independent of the run seed', async (t) => {
  const dir = cifarDir(tempDir(t), 20);
  const cfg = config({
    source: 'cifar10',
    path: dir,
    augment: 'none',
    val: { limit: 5 },
    train: { range: [10, 30] },
  });
  const a = await createLoader(cfg, { seed: 1, batchSize: 5, baseDir: '/' });
  const b = await createLoader(cfg, { seed: 2, batchSize: 5, baseDir: '/' });
  assert.deepEqual([a.info.trainSize, a.info.valSize], [20, 5]);
  const va = await collect(a, 'val', 0);
  assert.deepEqual(labelsOf(va), labelsOf(await collect(b, 'val', 0)));
  const firstPixels = (bs: Batch[]) =>
    bs.flatMap((x) => Array.from({ length: x.n }, (_, i) => x.x[i * 3072]));
  const train = firstPixels(await collect(a, 'train', 0)).sort((x, y) => x - y);
  assert.deepEqual(
    train,
    Array.from({ length: 20 }, (_, i) => 10 + i),
    'train = records 10..29',
  );
  await assert.rejects(
    createLoader(
      { ...cfg, train: { ...cfg.train, range: [90, 101] } },
      { seed: 1, batchSize: 5, baseDir: '/' },
    ),
    /data\.train\.range: \[90, 101\] goes past the split's 100 samples/,
  );
  await a.close();
  await b.close();
});

test('a train batch with no readable sample: a stream leaves it out, and the next batch index shows the gap', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'bad.tfrecord');
  const img = await makeImage(8, 8);
  await writeTfRecordFile(file, [
    encodeExample({ label: 1 }),
    encodeExample({ label: 2 }),
    encodeExample({ image: img, label: 0 }),
    encodeExample({ image: img, label: 2 }),
  ]);
  const cfg = config({
    source: 'tfrecord',
    path: file,
    val_path: file,
    num_classes: 3,
    image_size: 8,
    shuffle_buffer: 1, // file order: batch 0 = the two records without an image
  });
  const loader = await createLoader(cfg, { seed: 0, batchSize: 2, baseDir: dir });
  const val = await collect(loader, 'val', 0);
  assert.deepEqual(
    val.map((b) => [b.index, b.n]),
    [[1, 2]],
    'val leaves the position out',
  );
  const train = await collect(loader, 'train', 0);
  assert.deepEqual(
    train.map((b) => [b.index, b.n]),
    [[1, 2]],
    'train leaves batch 0 out; the runner steps over the gap',
  );
  assert.equal(loader.stats().byReason.missing_image, 2, 'each bad record counted once');
  await loader.close();
});
