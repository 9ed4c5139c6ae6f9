import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import { DataError } from '../../src/data/errors.js';
import { createLoader } from '../../src/data/index.js';
import {
  collect,
  config,
  devkitMeta,
  labelsOf,
  makeImage,
  recordingLogger,
  shared,
  tempDir,
  truncatedJpeg,
  writeFiles,
} from './helpers.js';

const WNIDS = ['n01440764', 'n02119789', 'n02100735']; // sorted: tench 0, setter 1, kit fox 2 by wnid order
const SORTED = [...WNIDS].sort();

/** train/<wnid>/ with `per` JPEGs each, coloured by class (green = 40 * class). */
async function trainFolders(root: string, per = 2): Promise<void> {
  for (const [c, wnid] of SORTED.entries()) {
    for (let i = 0; i < per; i++) {
      writeFiles(root, {
        [`train/${wnid}/${wnid}_${i}.JPEG`]: await makeImage(20, 16, { rgb: [0, 40 * c, 0] }),
      });
    }
  }
}

test('class folders: wnids sorted; unknown class, empty class, non-image and corrupt JPEG are skipped and counted', async (t) => {
  const root = tempDir(t);
  await trainFolders(root);
  mkdirSync(path.join(root, 'train', 'n09999999')); // empty class: keeps its index, logged
  writeFiles(root, {
    'train/n01440764/notes.txt': 'not an image',
    'train/n02100735/broken.JPEG': await truncatedJpeg(),
    'train/.DS_Store': 'ignored',
    [`val/${SORTED[2]}/v0.JPEG`]: await makeImage(20, 16),
    [`val/${SORTED[0]}/v1.jpeg`]: await makeImage(20, 16),
    'val/n07777777/v2.JPEG': await makeImage(20, 16),
    'val/n07777777/v3.JPEG': await makeImage(20, 16),
  });
  const log = recordingLogger();
  const loader = await createLoader(config({ source: 'imagefolder', path: root, image_size: 16 }), {
    seed: 3,
    batchSize: 1,
    baseDir: '/',
    logger: log,
  });
  assert.deepEqual(loader.info.classNames, [...SORTED, 'n09999999']);
  assert.equal(loader.info.numClasses, 4);
  assert.equal(loader.info.trainSize, 7, '6 good + the broken JPEG (found bad only when decoded)');
  assert.equal(loader.info.valSize, 2, 'the unknown class folder is left out');
  assert.deepEqual(labelsOf(await collect(loader, 'val', 0)), [0, 2]);
  const train = await collect(loader, 'train', 0);
  // Batch size 1: the broken JPEG's batch is replaced by a seeded draw of a readable sample,
  // so every train position yields a batch (the runner counts them) and nothing is relabelled.
  assert.deepEqual(
    train.map((b) => b.index),
    [0, 1, 2, 3, 4, 5, 6],
  );
  const labels = labelsOf(train);
  assert.equal(labels.length, 7);
  for (const l of [0, 1, 2]) assert.ok(labels.filter((x) => x === l).length >= 2, `class ${l}: ${labels}`);
  const again = await collect(loader, 'train', 0);
  assert.deepEqual(labelsOf(again), labels, 'the replacement is the same on every run');
  // An empty class folder drops no sample: counted apart, never as skipped (it read 5 here).
  assert.deepEqual(loader.stats(), {
    skipped: 4,
    byReason: { not_an_image: 1, unknown_class: 2, corrupt_image: 1 },
    notes: { empty_class: 1 },
  });
  const files = log.warnings.map((w) => String(w.obj.file));
  assert.ok(files.some((f) => f.endsWith(path.join('val', 'n07777777'))));
  assert.ok(files.some((f) => f.endsWith(path.join('train', 'n09999999'))));
  await loader.close();
});

test('greyscale, CMYK, RGBA, 16-bit PNG become 8-bit RGB; EXIF orientation is applied', async (t) => {
  const root = tempDir(t);
  writeFiles(root, {
    'train/a/x.JPEG': await makeImage(16, 16),
    'val/a/1-grey.JPEG': await makeImage(16, 16, { space: 'b-w' }),
    'val/a/2-cmyk.JPEG': await makeImage(16, 16, { space: 'cmyk', rgb: [0, 200, 40] }),
    'val/a/3-rgba.png': await makeImage(16, 16, { format: 'png', alpha: true }),
    'val/a/4-rot.JPEG': await makeImage(16, 16, { orientation: 6 }),
    'val/a/5-deep.png': await sharp(Buffer.alloc(16 * 16 * 3, 128), {
      raw: { width: 16, height: 16, channels: 3 },
    })
      .toColourspace('rgb16')
      .png()
      .toBuffer(),
  });
  assert.equal((await sharp(path.join(root, 'val/a/1-grey.JPEG')).metadata()).channels, 1);
  assert.equal((await sharp(path.join(root, 'val/a/2-cmyk.JPEG')).metadata()).space, 'cmyk');
  assert.equal((await sharp(path.join(root, 'val/a/5-deep.png')).metadata()).depth, 'ushort');
  const cfg = config({ source: 'imagefolder', path: root, image_size: 16, crop_pct: 1 });
  const loader = await createLoader(cfg, { seed: 0, batchSize: 8, baseDir: '/' });
  const [b] = await collect(loader, 'val', 0);
  assert.equal(b.n, 5);
  assert.equal(b.channels, 3);
  const px = (i: number, x: number, y: number) => [
    ...b.x.subarray(i * 768 + (y * 16 + x) * 3, i * 768 + (y * 16 + x) * 3 + 3),
  ];
  const [r, g, bl] = px(0, 8, 8);
  assert.ok(r === g && g === bl, `grey pixel ${[r, g, bl]}`);
  const cmyk = px(1, 0, 8); // stored green-ish (0, 200, 40) through a CMYK profile
  assert.ok(cmyk[1] > cmyk[0] + 40 && cmyk[1] > cmyk[2] + 40, `CMYK converted to RGB: ${cmyk}`);
  // The red ramp runs left to right in the stored pixels; orientation 6 turns it top to bottom.
  const rot = (x: number, y: number) => px(3, x, y)[0];
  assert.ok(rot(8, 15) - rot(8, 0) > 150, `ramp down the rows: ${rot(8, 0)} -> ${rot(8, 15)}`);
  assert.ok(Math.abs(rot(15, 8) - rot(0, 8)) < 30, 'flat along a row');
  assert.deepEqual(px(4, 3, 3), [128, 128, 128]);
  await loader.close();
});

test('flat val/ with Kaggle LOC_val_solution.csv: labels by wnid; unlabelled and unknown are skipped', async (t) => {
  const root = tempDir(t);
  await trainFolders(root, 1);
  const img = await makeImage(20, 16);
  writeFiles(root, {
    'val/ILSVRC2012_val_00000001.JPEG': img,
    'val/ILSVRC2012_val_00000002.JPEG': img,
    'val/ILSVRC2012_val_00000003.JPEG': img,
    'val/ILSVRC2012_val_00000004.JPEG': img,
    'LOC_val_solution.csv': [
      'ImageId,PredictionString',
      'ILSVRC2012_val_00000002,n02119789 1 2 3 4',
      'ILSVRC2012_val_00000001,n02100735 1 2 3 4 n02100735 5 6 7 8',
      'ILSVRC2012_val_00000004,n03000000 1 2 3 4',
    ].join('\n'),
  });
  const loader = await createLoader(config({ source: 'imagefolder', path: root, image_size: 16 }), {
    seed: 0,
    batchSize: 8,
    baseDir: '/',
  });
  assert.equal(loader.info.valSize, 2);
  assert.deepEqual(labelsOf(await collect(loader, 'val', 0)), [
    SORTED.indexOf('n02100735'),
    SORTED.indexOf('n02119789'),
  ]);
  assert.deepEqual(loader.stats().byReason, { missing_label: 1, unknown_class: 1 });
  await loader.close();
});

test("flat val/ with the devkit's ground truth is mapped through meta.mat, not read as class indices", async (t) => {
  const root = tempDir(t);
  await trainFolders(root, 1);
  const img = await makeImage(20, 16);
  // Devkit ids (ImageNet's order): 1 = n02119789, 2 = n02100735, 3 = n01440764.
  writeFiles(root, {
    'val/ILSVRC2012_val_00000001.JPEG': img,
    'val/ILSVRC2012_val_00000002.JPEG': img,
    'val/ILSVRC2012_val_00000003.JPEG': img,
    'ILSVRC2012_devkit_t12/data/ILSVRC2012_validation_ground_truth.txt': '1\n3\n2\n',
    'ILSVRC2012_devkit_t12/data/meta.mat': devkitMeta([
      { id: 1, wnid: 'n02119789', words: 'kit fox' },
      { id: 2, wnid: 'n02100735', words: 'English setter' },
      { id: 3, wnid: 'n01440764', words: 'tench' },
    ]),
  });
  const cfg = config({ source: 'imagefolder', path: root, image_size: 16 });
  const loader = await createLoader(cfg, { seed: 0, batchSize: 8, baseDir: '/' });
  const want = ['n02119789', 'n01440764', 'n02100735'].map((w) => SORTED.indexOf(w));
  assert.deepEqual(want, [2, 0, 1]);
  assert.deepEqual(labelsOf(await collect(loader, 'val', 0)), want);
  await loader.close();

  // Without the meta the ids can't be trusted: an error that says so.
  const gt = path.join(root, 'ILSVRC2012_devkit_t12/data/ILSVRC2012_validation_ground_truth.txt');
  const noMeta = { ...cfg, val_labels: gt, devkit_meta: path.join(root, 'nope.mat') };
  const l2 = await createLoader(noMeta, { seed: 0, batchSize: 8, baseDir: '/' }).catch((e: Error) => e);
  assert.ok(l2 instanceof DataError);
  assert.match(
    l2.message,
    /holds devkit ids \(not class indices\); its meta\.mat was not found at .*nope\.mat/,
  );
});

test('real Imagewoof (ImageNet layout): a few train and val images, greyscale ones as RGB', async (t) => {
  const root = shared(t, 'imagewoof2-112');
  if (!root) return;
  const cfg = config({
    source: 'imagefolder',
    path: root,
    image_size: 64,
    train: { limit: 16 },
    val: { limit: 8 },
  });
  const loader = await createLoader(cfg, { seed: 0, batchSize: 8, baseDir: '/' });
  assert.deepEqual(loader.info.classNames.slice(0, 2), ['n02086240', 'n02087394']);
  assert.deepEqual(loader.info.mean, [0.485, 0.456, 0.406]);
  const train = await collect(loader, 'train', 0);
  assert.equal(train.length, 2);
  for (const b of train) assert.equal(b.x.length, b.n * 64 * 64 * 3);
  assert.ok(labelsOf(train).every((l) => l >= 0 && l < 10));
  assert.deepEqual(loader.stats().skipped, 0);
  await loader.close();
  const grey = path.join(root, 'val', 'n02086240', 'n02086240_1320.JPEG');
  if ((await sharp(grey).metadata()).channels === 1) {
    const dir = tempDir(t);
    mkdirSync(path.join(dir, 'train', 'n02086240'), { recursive: true });
    writeFileSync(path.join(dir, 'train', 'n02086240', 'g.JPEG'), await sharp(grey).toBuffer());
    const l = await createLoader(
      config({ source: 'imagefolder', path: dir, val_path: path.join(dir, 'train'), image_size: 32 }),
      {
        seed: 0,
        batchSize: 1,
        baseDir: '/',
      },
    );
    const [b] = await collect(l, 'val', 0);
    assert.equal(b.channels, 3);
    assert.equal(b.x[0], b.x[1]);
    await l.close();
  }
});
