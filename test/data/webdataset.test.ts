import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { DataError } from '../../src/data/errors.js';
import { createLoader } from '../../src/data/index.js';
import { splitMember } from '../../src/data/sources/webdataset.js';
import {
  collect,
  config,
  labelsOf,
  makeImage,
  recordingLogger,
  tarBuffer,
  tempDir,
  truncatedJpeg,
} from './helpers.js';

type Entry = { name: string; data: Uint8Array | string };

/** Samples `key` with a JPEG and a `.cls` label. */
async function samples(keys: [string, number][]): Promise<Entry[]> {
  const out: Entry[] = [];
  for (const [key, label] of keys) {
    out.push({ name: `${key}.jpg`, data: await makeImage(10, 8, { rgb: [0, label * 20, 50] }) });
    out.push({ name: `${key}.cls`, data: String(label) });
  }
  return out;
}

test('member names group by basename up to the first dot', () => {
  assert.deepEqual(splitMember('a/b/n0144_1.jpg'), { key: 'a/b/n0144_1', ext: 'jpg' });
  assert.deepEqual(splitMember('x.seg.PNG'), { key: 'x', ext: 'seg.png' });
  assert.deepEqual(splitMember('dir.v2/s1.cls'), { key: 'dir.v2/s1', ext: 'cls' });
});

test('shards from a brace pattern: labels from .cls, .json and .txt; counted by headers', async (t) => {
  const dir = tempDir(t);
  const img = await makeImage(10, 8);
  writeFileSync(
    path.join(dir, 'train-000.tar'),
    await tarBuffer(
      await samples([
        ['s0', 0],
        ['s1', 1],
        ['s2', 2],
      ]),
    ),
  );
  writeFileSync(
    path.join(dir, 'train-001.tar'),
    await tarBuffer([
      { name: 'j3.jpeg', data: img },
      { name: 'j3.json', data: '{"label": 3}' },
      { name: 't4.png', data: await makeImage(10, 8, { format: 'png' }) },
      { name: 't4.txt', data: '4\n' },
      { name: 'both5.jpg', data: img },
      { name: 'both5.txt', data: 'a caption, not a label' },
      { name: 'both5.cls', data: '5' },
    ]),
  );
  const cfg = config({
    source: 'webdataset',
    path: 'train-{000..001}.tar',
    val_path: 'train-{000..001}.tar',
    num_classes: 6,
    image_size: 8,
  });
  const loader = await createLoader(cfg, { seed: 0, batchSize: 4, baseDir: dir });
  assert.equal(loader.info.trainSize, 6);
  assert.equal(loader.batchesPerEpoch('train'), 1);
  assert.equal(loader.batchesPerEpoch('val'), 2);
  assert.deepEqual(labelsOf(await collect(loader, 'val', 0)), [0, 1, 2, 3, 4, 5]);
  const train = labelsOf(await collect(loader, 'train', 0));
  assert.equal(train.length, 4, 'train drops the partial last batch');
  assert.deepEqual(loader.stats(), { skipped: 0, byReason: {} });
  await loader.close();
});

test('bad data in a shard: corrupt JPEG, missing label/image, truncated tar are skipped and counted', async (t) => {
  const dir = tempDir(t);
  const good = await samples([
    ['a', 1],
    ['b', 2],
  ]);
  const entries: Entry[] = [
    ...good,
    { name: 'bad.jpg', data: await truncatedJpeg() },
    { name: 'bad.cls', data: '3' },
    { name: 'nolabel.jpg', data: await makeImage(8, 8) },
    { name: 'noimage.cls', data: '1' },
    ...(await samples([['c', 0]])),
  ];
  const whole = await tarBuffer(entries);
  writeFileSync(path.join(dir, 'd-0.tar'), whole);
  // Second shard cut in the middle of its second image.
  const second = await tarBuffer(
    await samples([
      ['e', 0],
      ['f', 1],
    ]),
  );
  writeFileSync(path.join(dir, 'd-1.tar'), second.subarray(0, 512 * 5 + 100));
  const log = recordingLogger();
  const cfg = config({
    source: 'webdataset',
    path: 'd-{0..1}.tar',
    val_path: 'd-{0..1}.tar',
    num_classes: 4,
    image_size: 8,
  });
  const loader = await createLoader(cfg, { seed: 0, batchSize: 16, baseDir: dir, logger: log });
  assert.equal(loader.info.valSize, 5, 'a, b, bad, c from shard 0; e from the truncated shard 1');
  assert.deepEqual(labelsOf(await collect(loader, 'val', 0)), [1, 2, 0, 0]);
  assert.deepEqual(loader.stats().byReason, {
    corrupt_image: 1,
    missing_label: 1,
    missing_image: 1,
    truncated_shard: 1,
  });
  const files = log.warnings.map((w) => String(w.obj.file)).sort();
  assert.ok(
    files.some((f) => f.endsWith('d-0.tar:bad.jpg')),
    files.join(', '),
  );
  assert.ok(files.some((f) => f.endsWith('d-1.tar')));
  await loader.close();
});

test('an unparsable label is skipped as bad_label; a label out of range is an error naming the member', async (t) => {
  const dir = tempDir(t);
  const img = await makeImage(8, 8);
  writeFileSync(
    path.join(dir, 's.tar'),
    await tarBuffer([
      { name: 'a.jpg', data: img },
      { name: 'a.cls', data: 'dog' },
      { name: 'c.jpg', data: img },
      { name: 'c.json', data: '{"cls": 7}' },
    ]),
  );
  writeFileSync(
    path.join(dir, 'bad.tar'),
    await tarBuffer([
      { name: 'b.jpg', data: img },
      { name: 'b.cls', data: '12' },
    ]),
  );
  const log = recordingLogger();
  const cfg = config({
    source: 'webdataset',
    path: 's.tar',
    val_path: 's.tar',
    num_classes: 10,
    image_size: 8,
    label_base: 0, // one readable label can't tell the base (label-base.test.ts)
  });
  let loader = await createLoader(cfg, { seed: 0, batchSize: 4, baseDir: dir, logger: log });
  assert.deepEqual(labelsOf(await collect(loader, 'val', 0)), [7]);
  assert.deepEqual(loader.stats().byReason, { bad_label: 1 });
  assert.ok(String(log.warnings[0].obj.file).endsWith('s.tar:a.cls'));
  await loader.close();
  loader = await createLoader({ ...cfg, val_path: 'bad.tar' }, { seed: 0, batchSize: 4, baseDir: dir });
  await assert.rejects(collect(loader, 'val', 0), (err: Error) => {
    assert.ok(err instanceof DataError);
    assert.match(err.message, /bad\.tar:b\.cls: label 12 is out of range: expected 0\.\.9/);
    return true;
  });
  await loader.close();
});

test('a shard that cannot be opened is an error naming it', async (t) => {
  const dir = tempDir(t);
  writeFileSync(path.join(dir, 'ok.tar'), await tarBuffer(await samples([['a', 0]])));
  const cfg = config({ source: 'webdataset', path: '{ok,gone}.tar', val_path: 'ok.tar', num_classes: 2 });
  await assert.rejects(
    createLoader(cfg, { seed: 0, batchSize: 1, baseDir: dir }),
    /data\.path: shard .*gone\.tar not found/,
  );
});
