/**
 * Shard and sample robustness from a user-style audit: gzip-compressed shards, format
 * detection in `data inspect`, brace padding as bash does it, missing shards, cut CIFAR-10
 * batches, and skip messages that say what is wrong.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { deflateSync, gzipSync } from 'node:zlib';
import { DataError } from '../../src/data/errors.js';
import { expandBraces } from '../../src/data/formats/braces.js';
import { encodeExample, type FeatureValue } from '../../src/data/formats/example.js';
import { listTar } from '../../src/data/formats/tar-index.js';
import { countTfRecords, frameRecord, readTfRecords } from '../../src/data/formats/tfrecord.js';
import { createLoader } from '../../src/data/index.js';
import { configForPath, inspectData } from '../../src/data/inspect.js';
import { detectSource } from '../../src/data/sources/index.js';
import { UserError } from '../../src/util/errors.js';
import { collect, config, labelsOf, makeImage, recordingLogger, tarBuffer, tempDir } from './helpers.js';

/** A tar of samples `key.jpg` + `key.cls`. */
async function wdsTar(keys: [string, number][]): Promise<Buffer> {
  const img = await makeImage(10, 8);
  return tarBuffer(
    keys.flatMap(([key, label]) => [
      { name: `${key}.jpg`, data: img },
      { name: `${key}.cls`, data: String(label) },
    ]),
  );
}

/** A plain TFRecord file (bytes) of tfds-keyed Examples with these labels. */
async function tfrBytes(labels: number[]): Promise<Buffer> {
  const image = await makeImage(8, 8);
  return Buffer.concat(labels.map((label) => frameRecord(encodeExample({ image, label }))));
}

const opts = (dir: string, logger?: ReturnType<typeof recordingLogger>) => ({
  seed: 0,
  batchSize: 16,
  baseDir: dir,
  logger,
});

test('gzip-compressed WebDataset shards (.tar.gz, .tgz) read and count like plain ones', async (t) => {
  const dir = tempDir(t);
  const tarA = await wdsTar([
    ['a', 0],
    ['b', 1],
  ]);
  writeFileSync(path.join(dir, 's-0.tar.gz'), gzipSync(tarA));
  writeFileSync(path.join(dir, 's-1.tar.gz'), gzipSync(await wdsTar([['c', 2]])));
  writeFileSync(path.join(dir, 'one.tgz'), gzipSync(tarA));
  const cfg = config({ source: 'webdataset', path: 'one.tgz', val_path: 's-{0..1}.tar.gz', num_classes: 3 });
  const loader = await createLoader({ ...cfg, image_size: 8 }, opts(dir));
  assert.deepEqual([loader.info.trainSize, loader.info.valSize], [2, 3]);
  assert.deepEqual(labelsOf(await collect(loader, 'val', 0)), [0, 1, 2]);
  assert.deepEqual(loader.stats().byReason, {});
  await loader.close();
  assert.deepEqual(
    (await listTar(path.join(dir, 'one.tgz'))).members.map((m) => m.name),
    ['a.jpg', 'a.cls', 'b.jpg', 'b.cls'],
  );
  // A folder of such shards, or one shard, is told apart like plain tars.
  assert.deepEqual(detectSource(dir), {
    source: 'webdataset',
    path: path.join(dir, '{one.tgz,s-0.tar.gz,s-1.tar.gz}'),
  });
  assert.equal(detectSource(path.join(dir, 'one.tgz')).source, 'webdataset');

  // A gzip stream cut short: what was intact is read, the rest skipped; count and read agree.
  const cut = gzipSync(
    await wdsTar([
      ['d', 0],
      ['e', 1],
      ['f', 2],
    ]),
  );
  writeFileSync(path.join(dir, 'cut.tar.gz'), cut.subarray(0, cut.length - 40));
  const log = recordingLogger();
  const cutLoader = await createLoader(
    config({
      source: 'webdataset',
      path: 'cut.tar.gz',
      val_path: 'cut.tar.gz',
      num_classes: 3,
      image_size: 8,
    }),
    opts(dir, log),
  );
  const labels = labelsOf(await collect(cutLoader, 'val', 0));
  assert.equal(cutLoader.info.valSize, labels.length, 'the header count matches what is read');
  assert.deepEqual(cutLoader.stats().byReason, { truncated_shard: 1 });
  assert.match(
    String(log.warnings[0].obj.detail),
    /gzip-compressed tar stream broken: gzip: unexpected end of file/,
  );
  await cutLoader.close();
});

test('a WebDataset shard that is not a tar archive is an error naming it, not 0 samples', async (t) => {
  const dir = tempDir(t);
  writeFileSync(path.join(dir, 'x.tar'), await makeImage(200, 200));
  writeFileSync(path.join(dir, 'y.tar.gz'), gzipSync(Buffer.alloc(2048, 7)));
  for (const [name, message] of [
    ['x.tar', /shard .*x\.tar is not a tar archive/],
    ['y.tar.gz', /shard .*y\.tar\.gz is gzip-compressed but holds no tar archive/],
  ] as const) {
    const cfg = config({ source: 'webdataset', path: name, val_path: name, num_classes: 3 });
    await assert.rejects(
      createLoader(cfg, opts(dir)),
      (e: Error) => e instanceof DataError && message.test(e.message),
    );
    // With num_samples the count is skipped, with label_base the label scan: reading says the same.
    const counted = { train: { ...cfg.train, num_samples: 4 }, val: { ...cfg.val, num_samples: 4 } };
    const loader = await createLoader({ ...cfg, ...counted, label_base: 0 }, opts(dir));
    await assert.rejects(collect(loader, 'val', 0), message);
    await loader.close();
  }
});

test('GZIP and ZLIB TFRecords (TFRecordOptions) read and count like plain ones', async (t) => {
  const dir = tempDir(t);
  const plain = await tfrBytes([3, 1, 4, 1, 5]);
  writeFileSync(path.join(dir, 'a.tfrecord.gz'), gzipSync(plain));
  writeFileSync(path.join(dir, 'b.tfrecord'), deflateSync(plain));
  for (const f of ['a.tfrecord.gz', 'b.tfrecord']) {
    const file = path.join(dir, f);
    assert.equal(await countTfRecords(file, true), 5, f);
    const loader = await createLoader(
      config({ source: 'tfrecord', path: f, val_path: f, num_classes: 6, image_size: 8 }),
      opts(dir),
    );
    assert.deepEqual(labelsOf(await collect(loader, 'val', 0)), [3, 1, 4, 1, 5], f);
    assert.deepEqual(loader.stats().byReason, {}, f);
    await loader.close();
  }
  // Cut gzip: the records before the break are read; the break is one truncated_shard unit.
  const gz = gzipSync(plain);
  const cut = path.join(dir, 'cut.gz');
  writeFileSync(cut, gz.subarray(0, Math.floor(gz.length * 0.7)));
  const recs = [];
  for await (const r of readTfRecords(cut, { verifyCrc: true })) recs.push(r);
  assert.equal(await countTfRecords(cut, true), recs.length);
  const last = recs.at(-1)!;
  assert.equal(last.skip?.reason, 'truncated_shard');
  assert.match(last.skip!.detail!, /gzip stream broken \(unexpected end of file\)/);
  assert.ok(recs.slice(0, -1).every((r) => r.data));
});

test('data inspect tells formats by content and refuses unknown files (exit 2)', async (t) => {
  const dir = tempDir(t);
  const file = (name: string, data: Uint8Array) => {
    writeFileSync(path.join(dir, name), data);
    return path.join(dir, name);
  };
  const tfr = await tfrBytes([0, 1]);
  const wds = await wdsTar([['a', 0]]);
  assert.equal(configForPath(file('shard.bin', wds)).source, 'webdataset', 'a tar without .tar');
  assert.equal(configForPath(file('s.tar.gz', gzipSync(wds))).source, 'webdataset');
  assert.equal(configForPath(file('records.dat', tfr)).source, 'tfrecord');
  assert.equal(configForPath(file('records.gz', gzipSync(tfr))).source, 'tfrecord');
  for (const [name, data, message] of [
    ['some.jpg', await makeImage(20, 20), /some\.jpg: an unknown format: expected a tar shard/],
    ['empty.tfrecord', Buffer.alloc(0), /empty\.tfrecord: an empty file/],
    [
      'notes.gz',
      gzipSync('hello'.repeat(200)),
      /notes\.gz: gzip-compressed, but neither a tar archive nor a TFRecord/,
    ],
  ] as const) {
    assert.throws(
      () => configForPath(file(name, data)),
      (e: Error) => e instanceof UserError && e.exitCode === 2 && message.test(e.message),
    );
  }
  // The doc's TFRecord pattern: braces expanded before anything is tested.
  file('train-00000-of-00002', tfr);
  file('train-00001-of-00002', tfr);
  const cfg = configForPath(path.join(dir, 'train-{00000..00001}-of-00002'));
  assert.equal(cfg.source, 'tfrecord');
  assert.equal((await inspectData({ ...cfg, num_classes: 2 }, { sample: 4 })).splits.train?.samples, 4);
  // A missing shard is an error naming it, for a bare pattern and for a config.
  assert.throws(
    () => configForPath(path.join(dir, 'train-{00000..00002}-of-00002')),
    (e: Error) => e instanceof DataError && /shard .*train-00002-of-00002 not found/.test(e.message),
  );
  await assert.rejects(
    inspectData({ ...cfg, val_path: path.join(dir, 'validation-{0..1}'), num_classes: 2 }, { sample: 4 }),
    (e: Error) =>
      e instanceof DataError && /data\.val_path: shard .*validation-0 not found \(and 1 more/.test(e.message),
  );
});

test('brace ranges pad only when a bound is written with a leading zero (as bash, braceexpand)', () => {
  assert.deepEqual(expandBraces('s-{0..10}.tar').slice(0, 2), ['s-0.tar', 's-1.tar']);
  assert.equal(expandBraces('s-{0..10}.tar')[10], 's-10.tar');
  assert.deepEqual(expandBraces('{00..10}').slice(0, 2), ['00', '01']);
  assert.deepEqual(expandBraces('{1..010}').slice(0, 2), ['001', '002']);
  assert.deepEqual(expandBraces('{0..0}'), ['0']);
  const wds = expandBraces('x-{000000..000146}.tar');
  assert.deepEqual([wds.length, wds[0], wds[146]], [147, 'x-000000.tar', 'x-000146.tar']);
});

test('a CIFAR-10 batch file with fewer than 10,000 records is read, with a warning naming it', async (t) => {
  const dir = tempDir(t);
  const records = (n: number) => Buffer.alloc(n * 3073, 1);
  for (let i = 1; i <= 5; i++) writeFileSync(path.join(dir, `data_batch_${i}.bin`), records(10_000));
  writeFileSync(path.join(dir, 'test_batch.bin'), records(1000));
  const log = recordingLogger();
  const loader = await createLoader(config({ source: 'cifar10', path: dir }), opts(dir, log));
  assert.equal(loader.info.valSize, 1000);
  const warned = log.warnings.filter((w) => /cifar10/.test(w.msg));
  assert.equal(warned.length, 1, 'only the short file');
  assert.match(warned[0].msg, /test_batch\.bin holds 1000 records, the official file 10000/);
  assert.equal(warned[0].obj.file, path.join(dir, 'test_batch.bin'));
  await loader.close();
});

test('a WebDataset sample with a dotted key: the message says keys end at the first dot', async (t) => {
  const dir = tempDir(t);
  const img = await makeImage(8, 8);
  writeFileSync(
    path.join(dir, 'd.tar'),
    await tarBuffer([
      { name: 'dotted.v2.jpg', data: img },
      { name: 'dotted.v2.cls', data: '1' },
      { name: 'ok.jpg', data: img },
      { name: 'ok.cls', data: '0' },
    ]),
  );
  const log = recordingLogger();
  const loader = await createLoader(
    config({ source: 'webdataset', path: 'd.tar', val_path: 'd.tar', num_classes: 2, image_size: 8 }),
    opts(dir, log),
  );
  assert.deepEqual(labelsOf(await collect(loader, 'val', 0)), [0]);
  assert.equal(
    log.warnings[0].obj.detail,
    "sample 'dotted' has no image file (members: v2.jpg, v2.cls; WebDataset keys end at the first dot of the file name)",
  );
  await loader.close();
});

test('TFRecord skip messages name the key that is missing or has the wrong type', async (t) => {
  const dir = tempDir(t);
  const img = await makeImage(8, 8);
  const file = path.join(dir, 't.tfrecord');
  const records: Record<string, FeatureValue>[] = [
    { 'image/encoded': img, 'image/class/label': 'seven' },
    { 'image/encoded': img, 'image/class/label': 2.5 },
    { 'image/encoded': img },
    { 'image/encoded': 4, 'image/class/label': 1 },
    { image: img, label: 1 },
  ];
  writeFileSync(file, Buffer.concat(records.map((r) => frameRecord(encodeExample(r)))));
  const log = recordingLogger();
  const loader = await createLoader(
    config({ source: 'tfrecord', path: file, val_path: file, num_classes: 3, image_size: 8, label_base: 0 }),
    opts(dir, log),
  );
  assert.deepEqual(labelsOf(await collect(loader, 'val', 0)), [1]);
  assert.deepEqual(
    log.warnings.map((w) => [w.obj.reason, w.obj.detail]),
    [
      ['bad_label', "'image/class/label' is a bytes_list, expected an int64_list (TF-slim/TPU keys)"],
      ['bad_label', "'image/class/label' is a float_list, expected an int64_list (TF-slim/TPU keys)"],
      ['missing_label', "'image/class/label' is missing (TF-slim/TPU keys)"],
      ['missing_image', "'image/encoded' is an int64_list, expected a bytes_list (TF-slim/TPU keys)"],
    ],
  );
  await loader.close();
});
