import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { DataError } from '../../src/data/errors.js';
import { decodeImageExample, encodeExample } from '../../src/data/formats/example.js';
import { countTfRecords, readTfRecords, writeTfRecordFile } from '../../src/data/formats/tfrecord.js';
import { createLoader } from '../../src/data/index.js';
import { collect, config, labelsOf, makeImage, recordingLogger, tempDir } from './helpers.js';

/**
 * One TFRecord written out byte by byte from the format spec: a tf.train.Example in the
 * TPU converter's keys, image/class/label = 3 (1-based) and image/encoded = a 1x1 red PNG.
 */
const PNG_1X1_RED = [
  0x89,
  0x50,
  0x4e,
  0x47,
  0x0d,
  0x0a,
  0x1a,
  0x0a, // PNG signature
  0x00,
  0x00,
  0x00,
  0x0d,
  0x49,
  0x48,
  0x44,
  0x52,
  0x00,
  0x00,
  0x00,
  0x01,
  0x00,
  0x00,
  0x00,
  0x01,
  0x08,
  0x02,
  0x00,
  0x00,
  0x00,
  0x90,
  0x77,
  0x53,
  0xde, // IHDR 1x1 RGB8
  0x00,
  0x00,
  0x00,
  0x0c,
  0x49,
  0x44,
  0x41,
  0x54,
  0x78,
  0xda,
  0x63,
  0xf8,
  0xcf,
  0xc0,
  0x00,
  0x00,
  0x03,
  0x01,
  0x01,
  0x00,
  0xf7,
  0x03,
  0x41,
  0x43, // IDAT
  0x00,
  0x00,
  0x00,
  0x00,
  0x49,
  0x45,
  0x4e,
  0x44,
  0xae,
  0x42,
  0x60,
  0x82, // IEND
];
const ascii = (s: string) => [...s].map((c) => c.charCodeAt(0));
const EXAMPLE = [
  0x0a,
  120, // Example.features (field 1, length-delimited), 120 bytes
  0x0a,
  26, // Features.feature map entry
  0x0a,
  17,
  ...ascii('image/class/label'), // key
  0x12,
  5,
  0x1a,
  3,
  0x0a,
  1,
  3, // value: Feature.int64_list { value: [3] } (packed)
  0x0a,
  90, // map entry
  0x0a,
  13,
  ...ascii('image/encoded'), // key
  0x12,
  73,
  0x0a,
  71,
  0x0a,
  69,
  ...PNG_1X1_RED, // value: Feature.bytes_list { value: [png] }
];
const RECORD = Buffer.from([
  122,
  0,
  0,
  0,
  0,
  0,
  0,
  0, // uint64 LE length
  0x13,
  0x89,
  0x86,
  0x78, // masked CRC32C of the length
  ...EXAMPLE,
  0x13,
  0x6c,
  0x20,
  0x8b, // masked CRC32C of the data
]);

/** Write `n` tfds-style records (label i % 10) to `file`; returns the records' bytes. */
async function tfdsShard(file: string, n: number, first = 0): Promise<Uint8Array[]> {
  const records: Uint8Array[] = [];
  for (let i = first; i < first + n; i++) {
    const image = await makeImage(12, 10, { rgb: [0, (i * 20) % 256, 100] });
    records.push(encodeExample({ image, label: i % 10, 'image/format': 'jpeg' }));
  }
  await writeTfRecordFile(file, records);
  return records;
}

test('a TFRecord written literally from the spec reads back: TPU keys, 1-based label, CRCs verified', async (t) => {
  assert.equal(EXAMPLE.length, 122);
  const dir = tempDir(t);
  const file = path.join(dir, 'train-00000-of-00001');
  writeFileSync(file, RECORD);
  const recs = [];
  for await (const r of readTfRecords(file, { verifyCrc: true })) recs.push(r);
  assert.equal(recs.length, 1);
  assert.deepEqual([...recs[0].data!], EXAMPLE);
  const ex = decodeImageExample(recs[0].data!);
  assert.deepEqual(
    { label: ex.label, keys: ex.keys, png: [...ex.image!] },
    { label: 3, keys: 'tpu', png: PNG_1X1_RED },
  );
  const loader = await createLoader(
    // One record can't tell the base (see label-base.test.ts): the TPU converter's is 1.
    config({ source: 'tfrecord', path: file, val_path: file, num_classes: 5, image_size: 8, label_base: 1 }),
    {
      seed: 0,
      batchSize: 4,
      baseDir: dir,
    },
  );
  const [batch] = await collect(loader, 'val', 0);
  assert.deepEqual([...batch.y], [2], 'image/class/label 3 is class 2 (0-based)');
  assert.deepEqual([...batch.x.subarray(0, 6)], [255, 0, 0, 255, 0, 0], 'the red pixel, upscaled');
  await loader.close();
});

test('writer and reader round-trip; records are counted from headers alone', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'a.tfrecord');
  const written = await tfdsShard(file, 7);
  const read: Uint8Array[] = [];
  for await (const r of readTfRecords(file, { verifyCrc: true })) read.push(r.data!);
  assert.deepEqual(
    read.map((r) => Buffer.from(r).toString('hex')),
    written.map((r) => Buffer.from(r).toString('hex')),
  );
  assert.equal(await countTfRecords(file, true), 7);
  const ex = decodeImageExample(read[4]);
  assert.equal(ex.keys, 'tfds');
  assert.equal(ex.label, 4);
});

test('bad CRCs and truncation: the record (or rest of shard) is skipped, counted, logged with its offset', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'train.tfrecord');
  const records = await tfdsShard(file, 6);
  const good = readFileSync(file);
  const sizes = records.map((r) => 16 + r.length);
  const offset = (i: number) => sizes.slice(0, i).reduce((a, b) => a + b, 0);
  const cfg = { source: 'tfrecord', path: file, val_path: file, num_classes: 10, image_size: 8 };

  // Flip one byte of record 2's data CRC: record 2 alone is skipped.
  const dataCrc = Buffer.from(good);
  dataCrc[offset(3) - 1] ^= 0x01;
  writeFileSync(file, dataCrc);
  let log = recordingLogger();
  let loader = await createLoader(config(cfg), { seed: 0, batchSize: 4, baseDir: dir, logger: log });
  assert.equal(loader.info.valSize, 6);
  assert.deepEqual(labelsOf(await collect(loader, 'val', 0)), [0, 1, 3, 4, 5]);
  assert.deepEqual(loader.stats(), { skipped: 1, byReason: { bad_crc: 1 } });
  assert.equal(log.warnings.length, 1);
  assert.equal(log.warnings[0].obj.file, `${file} @ byte ${offset(2)}`);
  await collect(loader, 'val', 1);
  assert.equal(log.warnings.length, 1, 'logged once, not every epoch');
  await loader.close();

  // Flip a byte of record 3's length CRC: framing is lost, records 3.. are skipped.
  const lenCrc = Buffer.from(good);
  lenCrc[offset(3) + 9] ^= 0x80;
  writeFileSync(file, lenCrc);
  loader = await createLoader(config(cfg), { seed: 0, batchSize: 4, baseDir: dir });
  assert.equal(loader.info.valSize, 4);
  assert.deepEqual(labelsOf(await collect(loader, 'val', 0)), [0, 1, 2]);
  assert.deepEqual(loader.stats().byReason, { bad_crc: 1 });
  await loader.close();

  // Cut the file inside record 4.
  writeFileSync(file, good.subarray(0, offset(4) + 30));
  log = recordingLogger();
  loader = await createLoader(config(cfg), { seed: 0, batchSize: 4, baseDir: dir, logger: log });
  assert.deepEqual(labelsOf(await collect(loader, 'val', 0)), [0, 1, 2, 3]);
  assert.deepEqual(loader.stats().byReason, { truncated_shard: 1 });
  assert.match(String(log.warnings[0].obj.file), /train\.tfrecord @ byte \d+/);
  await loader.close();
});

test('records without image or label are skipped; a label out of range is an error naming the record', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'val.tfrecord');
  const image = await makeImage(8, 8);
  await writeTfRecordFile(file, [
    encodeExample({ image, label: 1 }),
    encodeExample({ label: 2 }),
    encodeExample({ image }),
    encodeExample({ image, label: 3 }),
  ]);
  const cfg = config({ source: 'tfrecord', path: file, val_path: file, num_classes: 4, image_size: 8 });
  let loader = await createLoader(cfg, { seed: 0, batchSize: 8, baseDir: dir });
  assert.deepEqual(labelsOf(await collect(loader, 'val', 0)), [1, 3]);
  assert.deepEqual(loader.stats().byReason, { missing_image: 1, missing_label: 1 });
  await loader.close();

  await writeTfRecordFile(file, [encodeExample({ image, label: 1 }), encodeExample({ image, label: 4 })]);
  loader = await createLoader(cfg, { seed: 0, batchSize: 8, baseDir: dir });
  await assert.rejects(collect(loader, 'val', 0), (err: Error) => {
    assert.ok(err instanceof DataError);
    assert.match(err.message, /val\.tfrecord @ byte \d+: label 4 is out of range: expected 0\.\.3/);
    return true;
  });
  await loader.close();

  // TF-slim's keys with a stored 0 are 0-based (TF-slim's converters), not shifted to -1.
  await writeTfRecordFile(file, [encodeExample({ 'image/encoded': image, 'image/class/label': 0 })]);
  loader = await createLoader(cfg, { seed: 0, batchSize: 8, baseDir: dir });
  assert.deepEqual(labelsOf(await collect(loader, 'val', 0)), [0]);
  await loader.close();
});

test('a missing shard is an error naming it', async (t) => {
  const dir = tempDir(t);
  await tfdsShard(path.join(dir, 'train-0.tfrecord'), 2);
  const cfg = config({
    source: 'tfrecord',
    path: 'train-{0..1}.tfrecord',
    val_path: 'train-0.tfrecord',
    num_classes: 10,
  });
  await assert.rejects(createLoader(cfg, { seed: 0, batchSize: 2, baseDir: dir }), (err: Error) => {
    assert.ok(err instanceof DataError);
    assert.match(err.message, /data\.path: shard .*train-1\.tfrecord not found/);
    return true;
  });
});
