/**
 * `label_base: auto` for sharded sources decides from the stored labels, never from the
 * key names alone: `image/class/label` is 0-based in TF-slim, 1-based in the TPU converter.
 * A label is never shifted silently; what the evidence doesn't settle is an error naming
 * data.label_base. Records with other key sets are one error up front.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { DataError } from '../../src/data/errors.js';
import { encodeExample } from '../../src/data/formats/example.js';
import { writeTfRecordFile } from '../../src/data/formats/tfrecord.js';
import { createLoader } from '../../src/data/index.js';
import { configForPath, formatInspect, inspectData } from '../../src/data/inspect.js';
import { collect, config, labelsOf, makeImage, tarBuffer, tempDir, writeFiles } from './helpers.js';

type Keys = 'slim' | 'tfds';

/** A TFRecord shard with these stored labels, in TF-slim's (= TPU) keys or tfds'. */
async function shard(file: string, labels: number[], keys: Keys = 'slim'): Promise<void> {
  const image = await makeImage(8, 8);
  await writeTfRecordFile(
    file,
    labels.map((label) =>
      encodeExample(
        keys === 'slim'
          ? { 'image/encoded': image, 'image/class/label': label, 'image/format': 'jpeg' }
          : { image, label },
      ),
    ),
  );
}

/** A logger keeping info and warning lines. */
function lines() {
  const info: string[] = [];
  const warn: string[] = [];
  return {
    info,
    warn,
    logger: { info: (_: object, m: string) => info.push(m), warn: (_: object, m: string) => warn.push(m) },
  };
}

async function valLabels(
  dir: string,
  over: Record<string, unknown>,
  logger?: ReturnType<typeof lines>['logger'],
) {
  const loader = await createLoader(config({ source: 'tfrecord', image_size: 8, ...over }), {
    seed: 0,
    batchSize: 16,
    baseDir: dir,
    logger,
  });
  try {
    return labelsOf(await collect(loader, 'val', 0));
  } finally {
    await loader.close();
  }
}

test('TF-slim image/class/label is 0-based: a stored 0 decides, labels read as stored', async (t) => {
  const dir = tempDir(t);
  await shard(path.join(dir, 'train.tfrecord'), [0, 1, 2, 3, 4]);
  const log = lines();
  const cfg = { path: 'train.tfrecord', val_path: 'train.tfrecord', num_classes: 5 };
  assert.deepEqual(await valLabels(dir, cfg, log.logger), [0, 1, 2, 3, 4]);
  const line = log.info.find((l) => l.includes('labels:'));
  assert.ok(line, log.info.join('\n'));
  assert.match(
    line,
    /0-based \(auto: a stored 0 means 0-based\); keys image\/encoded \+ image\/class\/label; stored labels 0\.\.4 \(5 distinct\)/,
  );
});

test('the TPU converter is 1-based: a stored num_classes decides', async (t) => {
  const dir = tempDir(t);
  await shard(path.join(dir, 'train.tfrecord'), [1, 2, 3, 4, 5]);
  const log = lines();
  const cfg = { path: 'train.tfrecord', val_path: 'train.tfrecord', num_classes: 5 };
  assert.deepEqual(await valLabels(dir, cfg, log.logger), [0, 1, 2, 3, 4]);
  assert.ok(log.info.some((l) => /1-based \(auto: a stored 5 \(= num_classes\) means 1-based\)/.test(l)));
});

test('0-based TF-slim shards without class 0: an error naming data.label_base, never a shift', async (t) => {
  const dir = tempDir(t);
  await shard(path.join(dir, 'train-0.tfrecord'), [3, 1, 2]);
  await shard(path.join(dir, 'val-0.tfrecord'), [2, 1]);
  const cfg = { path: 'train-{0..0}.tfrecord', val_path: 'val-0.tfrecord', num_classes: 5 };
  await assert.rejects(valLabels(dir, cfg), (err: Error) => {
    assert.ok(err instanceof DataError);
    assert.match(
      err.message,
      /^data\.label_base: cannot tell whether the labels of .*train-\{0\.\.0\}\.tfrecord and .*val-0\.tfrecord start at 0 or 1/,
    );
    assert.match(
      err.message,
      /the 5 samples read \(keys image\/encoded \+ image\/class\/label\) hold stored labels 1\.\.3/,
    );
    assert.match(err.message, /set data\.label_base: 0 \(TF-slim's converters\) or 1/);
    assert.equal(err.message.split('\n').length, 1);
    return true;
  });
  // Told, it reads them as told.
  assert.deepEqual(await valLabels(dir, { ...cfg, label_base: 0 }), [2, 1]);
  assert.deepEqual(await valLabels(dir, { ...cfg, label_base: 1 }), [1, 0]);
});

test('stored labels that fit neither base, or contradict the decision, are errors', async (t) => {
  const dir = tempDir(t);
  await shard(path.join(dir, 'a.tfrecord'), [0, 1, 2, 3, 4, 5]);
  await assert.rejects(
    valLabels(dir, { path: 'a.tfrecord', val_path: 'a.tfrecord', num_classes: 5 }),
    /hold stored labels 0\.\.5: outside 0\.\.4 \(0-based\) and 1\.\.5 \(1-based\) alike, for num_classes 5: check data\.num_classes/,
  );
  // Told 1-based, a stored 0 is out of range when read.
  await shard(path.join(dir, 'b.tfrecord'), [1, 0]);
  await assert.rejects(
    valLabels(dir, { path: 'b.tfrecord', val_path: 'b.tfrecord', num_classes: 5, label_base: 1 }),
    /label -1 is out of range.*\(stored 0, 1-based\)/,
  );
});

test('tfds keys are 0-based by the tfds spec, with or without a stored 0', async (t) => {
  const dir = tempDir(t);
  await shard(path.join(dir, 'v.tfrecord'), [3, 1, 2], 'tfds');
  const log = lines();
  assert.deepEqual(
    await valLabels(dir, { path: 'v.tfrecord', val_path: 'v.tfrecord', num_classes: 5 }, log.logger),
    [3, 1, 2],
  );
  assert.ok(
    log.info.some((l) => /0-based \(auto: image \+ label labels are 0-based by their spec\)/.test(l)),
  );
});

test('WebDataset labels are decided the same way', async (t) => {
  const dir = tempDir(t);
  const img = await makeImage(8, 8);
  const tarOf = (labels: number[]) =>
    tarBuffer(
      labels.flatMap((l, i) => [
        { name: `s${i}.jpg`, data: img },
        { name: `s${i}.cls`, data: String(l) },
      ]),
    );
  writeFiles(dir, {
    'one.tar': await tarOf([1, 2, 3]),
    'zero.tar': await tarOf([0, 2, 1]),
    'top.tar': await tarOf([3, 1]),
  });
  const wds = (name: string, classes = 3) =>
    createLoader(
      config({ source: 'webdataset', path: name, val_path: name, num_classes: classes, image_size: 8 }),
      {
        seed: 0,
        batchSize: 8,
        baseDir: dir,
      },
    );
  const read = async (name: string) => {
    const loader = await wds(name);
    const labels = labelsOf(await collect(loader, 'val', 0));
    await loader.close();
    return labels;
  };
  assert.deepEqual(await read('zero.tar'), [0, 2, 1]);
  assert.deepEqual(await read('top.tar'), [2, 0], 'a stored 3 with 3 classes: 1-based');
  await assert.rejects(
    wds('one.tar', 4),
    /data\.label_base: cannot tell .*one\.tar start at 0 or 1: the 3 samples read .*hold stored labels 1\.\.3, and for num_classes 4 both fit/,
  );
});

test('records with other keys: one error up front naming the keys found and those supported', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'train.tfrecord');
  const records = Array.from({ length: 5 }, (_, i) =>
    encodeExample({ image_floats: [0.5, 0.25, 1.5], image_class: i, name: `r${i}` }),
  );
  await writeTfRecordFile(file, records);
  const warned: string[] = [];
  const logger = { info: () => {}, warn: (_: object, m: string) => void warned.push(m) };
  await assert.rejects(
    createLoader(config({ source: 'tfrecord', path: file, val_path: file, num_classes: 5 }), {
      seed: 0,
      batchSize: 2,
      baseDir: dir,
      logger,
    }),
    (err: Error) => {
      assert.ok(err instanceof DataError);
      assert.match(
        err.message,
        /train\.tfrecord @ byte 0: tf\.train\.Example with keys image_class \(int64_list\), image_floats \(float_list\), name \(bytes_list\): expected tfds keys \(image, label\) or TF-slim\/TPU keys \(image\/encoded, image\/class\/label\)/,
      );
      assert.equal(err.message.split('\n').length, 1);
      return true;
    },
  );
  assert.deepEqual(warned, [], 'no warning per record before the error');
});

test('data inspect shows the label set the shards hold, the key set, base and stored range', async (t) => {
  const dir = tempDir(t);
  const img = await makeImage(8, 8);
  const entries = Array.from({ length: 20 }, (_, i) => [
    { name: `s${String(i).padStart(2, '0')}.jpg`, data: img },
    { name: `s${String(i).padStart(2, '0')}.cls`, data: String(i % 10) },
  ]).flat();
  writeFiles(dir, { 'ten.tar': await tarBuffer(entries) });
  const wds = await inspectData(configForPath(path.join(dir, 'ten.tar')), { sample: 50 });
  const text = formatInspect(wds);
  assert.doesNotMatch(text, /classes +1000: 0, 1/);
  assert.match(text, /^classes {7}1000 \(data\.num_classes not set: ImageNet's 1000 assumed\)$/m);
  assert.match(text, /^labels {8}10 distinct in the 20 samples read: 0\.\.9 \(0, 1, 2, 3, 4, 5, \.\.\.\)$/m);
  assert.match(
    text,
    /^label base {4}0-based \(auto: a stored 0 means 0-based\); keys \.cls; stored labels 0\.\.9/m,
  );
  assert.deepEqual(wds.labels, {
    samples: 20,
    distinct: 10,
    range: [0, 9],
    examples: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
  });

  await shard(path.join(dir, 'train-00000-of-00001'), [1, 2, 3, 4, 5]);
  const tfr = formatInspect(
    await inspectData(
      { ...configForPath(path.join(dir, 'train-00000-of-00001')), num_classes: 5 },
      { sample: 50 },
    ),
  );
  assert.match(tfr, /^classes {7}5 \(data\.num_classes\)$/m);
  assert.match(tfr, /^labels {8}5 distinct in the 5 samples read: 0\.\.4/m);
  assert.match(
    tfr,
    /^label base {4}1-based .*keys image\/encoded \+ image\/class\/label; stored labels 1\.\.5/m,
  );
});
