/**
 * ImageFolder listing edge cases: symbolic links, nested class subfolders, stray files in
 * a class-folder val/, and label files saved by Excel (BOM, CRLF). Listing is checked on
 * the source itself (no decoding needed); one test decodes through the loader.
 */
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import type { DataConfig } from '../../src/data/config.js';
import { DataError, SkipLog } from '../../src/data/errors.js';
import {
  readDevkitGroundTruth,
  readLocValSolution,
  readSynsetMapping,
} from '../../src/data/formats/imagenet-labels.js';
import { createLoader } from '../../src/data/index.js';
import { openImageFolder } from '../../src/data/sources/imagefolder.js';
import type { IndexedSplit } from '../../src/data/sources/source.js';
import {
  collect,
  config,
  devkitMeta,
  labelsOf,
  makeImage,
  recordingLogger,
  tempDir,
  writeFiles,
} from './helpers.js';

/** The source's listing of a split: files relative to `root`, labels, skip stats and warnings. */
async function listing(root: string, over: Record<string, unknown> = {}) {
  const log = recordingLogger();
  const skips = new SkipLog(log);
  const cfg: DataConfig = config({ source: 'imagefolder', path: root, ...over });
  const source = await openImageFolder({ cfg, skips, logger: log });
  const read = async (name: 'train' | 'val') => {
    const split = (await source.split(name)) as IndexedSplit;
    const refs = Array.from({ length: split.size }, (_, i) => split.ref(i));
    return {
      files: refs.map((r) => path.relative(root, r.file ?? '')),
      labels: refs.map((r) => r.label),
    };
  };
  return { classes: source.classNames, train: await read('train'), val: await read('val'), skips, log };
}

const skipped = (log: ReturnType<typeof recordingLogger>, reason: string) =>
  log.warnings.filter((w) => w.obj.reason === reason).map((w) => String(w.obj.file));

test('symbolic links are followed and class subfolders are walked, as torchvision ImageFolder does', async (t) => {
  const root = tempDir(t);
  const img = await makeImage(8, 8);
  writeFiles(root, {
    'train/a/a0.jpg': img,
    'train/a/nested/deep.jpg': img,
    'train/a/nested/deeper/d2.jpg': img,
    'train/a/n-x/y.jpg': img, // '-' sorts before '/': n-x/ comes before nested/deeper/ (os.walk sorted)
    'train/a/notes.txt': 'not an image',
    'elsewhere/b-real/b0.jpg': img,
    'elsewhere/b-real/b1.jpg': img,
    'train/c/c0.jpg': img,
    'val/a/v.jpg': img,
    'val/b/v.jpg': img,
    'val/c/v.jpg': img,
    'val/c/sub/v2.jpg': img,
  });
  symlinkSync(path.join(root, 'elsewhere/b-real'), path.join(root, 'train/b')); // class folder as a link
  symlinkSync('../c/c0.jpg', path.join(root, 'train/a/link.jpg')); // image as a link
  symlinkSync('/nonexistent/x.jpg', path.join(root, 'train/a/broken.jpg'));
  symlinkSync('..', path.join(root, 'train/a/nested/loop')); // back to train/a: walked once
  const { classes, train, val, skips, log } = await listing(root);
  assert.deepEqual(classes, ['a', 'b', 'c'], 'the linked class folder is a class');
  assert.deepEqual(train.files, [
    'train/a/a0.jpg',
    'train/a/link.jpg',
    'train/a/n-x/y.jpg',
    'train/a/nested/deep.jpg',
    'train/a/nested/deeper/d2.jpg',
    'train/b/b0.jpg',
    'train/b/b1.jpg',
    'train/c/c0.jpg',
  ]);
  assert.deepEqual(train.labels, [0, 0, 0, 0, 0, 1, 1, 2]);
  assert.deepEqual(val.files, ['val/a/v.jpg', 'val/b/v.jpg', 'val/c/v.jpg', 'val/c/sub/v2.jpg']);
  assert.deepEqual(val.labels, [0, 1, 2, 2], 'val labels follow the train class index');
  assert.deepEqual(skips.stats().byReason, { unreadable_file: 1, not_an_image: 1 });
  assert.deepEqual(skipped(log, 'unreadable_file'), [path.join(root, 'train/a/broken.jpg')]);
  assert.deepEqual(skipped(log, 'not_an_image'), [path.join(root, 'train/a/notes.txt')]);
  assert.ok(
    log.warnings.some((w) => w.obj.file === path.join(root, 'train/a/nested/loop')),
    'the loop is logged',
  );
});

test('a linked class folder and a linked image decode through the loader with their class', async (t) => {
  const root = tempDir(t);
  writeFiles(root, {
    'real/b/b0.jpg': await makeImage(16, 16, { rgb: [0, 200, 0] }),
    'train/a/a0.jpg': await makeImage(16, 16, { rgb: [0, 0, 0] }),
    'val/a/a0.jpg': await makeImage(16, 16, { rgb: [0, 0, 0] }),
  });
  symlinkSync(path.join(root, 'real/b'), path.join(root, 'train/b'));
  symlinkSync(path.join(root, 'real/b'), path.join(root, 'val/b'));
  symlinkSync(path.join(root, 'real/b/b0.jpg'), path.join(root, 'val/a/linked.jpg'));
  const cfg = config({ source: 'imagefolder', path: root, image_size: 16, crop_pct: 1 });
  const loader = await createLoader(cfg, { seed: 0, batchSize: 8, baseDir: '/' });
  assert.deepEqual(loader.info.classNames, ['a', 'b']);
  const batches = await collect(loader, 'val', 0);
  assert.deepEqual(labelsOf(batches), [0, 0, 1]);
  const green = (i: number) => batches[0].x[i * 16 * 16 * 3 + (8 * 16 + 8) * 3 + 1];
  assert.ok(green(1) > 150 && green(0) < 50, 'the linked file is read through the link');
  assert.equal(loader.stats().skipped, 0);
  await loader.close();
});

test('a stray image beside val class folders is skipped and logged; val stays class folders', async (t) => {
  const root = tempDir(t);
  const img = await makeImage(8, 8);
  writeFiles(root, {
    'train/n00000002/t.jpg': img,
    'train/n00000003/t.jpg': img,
    'val/n00000002/v0.jpg': img,
    'val/n00000003/v1.jpg': img,
    'val/n00000003/v2.jpg': img,
    'val/ILSVRC2012_val_00000001.JPEG': img,
    'val/readme.txt': 'notes',
  });
  const want = ['val/n00000002/v0.jpg', 'val/n00000003/v1.jpg', 'val/n00000003/v2.jpg'];
  const noLabels = await listing(root);
  assert.deepEqual(noLabels.val.files, want);
  assert.deepEqual(noLabels.val.labels, [0, 1, 1]);
  assert.deepEqual(noLabels.skips.stats().byReason, { missing_label: 1, not_an_image: 1 });
  assert.deepEqual(skipped(noLabels.log, 'missing_label'), [
    path.join(root, 'val/ILSVRC2012_val_00000001.JPEG'),
  ]);
  // A label file next to val/ that names the stray image doesn't make val flat either.
  writeFiles(root, {
    'LOC_val_solution.csv': 'ImageId,PredictionString\nILSVRC2012_val_00000001,n00000002 1 2 3 4\n',
  });
  const withLabels = await listing(root);
  assert.deepEqual(withLabels.val.files, want);
  assert.deepEqual(withLabels.val.labels, [0, 1, 1]);
});

test('flat val/ stays flat with a non-class subfolder in it; without labels the error names it', async (t) => {
  const root = tempDir(t);
  const img = await makeImage(8, 8);
  writeFiles(root, {
    'train/n00000002/t.jpg': img,
    'train/n00000003/t.jpg': img,
    'val/ILSVRC2012_val_00000001.JPEG': img,
    'val/ILSVRC2012_val_00000002.JPEG': img,
    'val/ILSVRC2012_devkit_t12/readme.txt': 'devkit unpacked into val/',
  });
  const err = await listing(root).catch((e: Error) => e);
  assert.ok(err instanceof DataError);
  assert.match(err.message, /flat val folder without labels \(its subfolders ILSVRC2012_devkit_t12 are not/);
  writeFiles(root, {
    'val/LOC_val_solution.csv': [
      'ImageId,PredictionString',
      'ILSVRC2012_val_00000001,n00000003 1 2 3 4',
      'ILSVRC2012_val_00000002,n00000002 1 2 3 4',
    ].join('\n'),
  });
  const { val, skips } = await listing(root);
  assert.deepEqual(val.files, ['val/ILSVRC2012_val_00000001.JPEG', 'val/ILSVRC2012_val_00000002.JPEG']);
  assert.deepEqual(val.labels, [1, 0]);
  assert.deepEqual(skips.stats().byReason, { not_an_image: 1 }, 'the folder holds no samples to count');
});

test('label files saved by Excel (UTF-8 BOM, CRLF) read the same as plain ones', async (t) => {
  const root = tempDir(t);
  const img = await makeImage(8, 8);
  const csv = [
    'ImageId,PredictionString',
    'ILSVRC2012_val_00000001,n00000003 1 2 3 4',
    'ILSVRC2012_val_00000002,n00000002 1 2 3 4',
    '',
  ];
  writeFiles(root, {
    'train/n00000002/t.jpg': img,
    'train/n00000003/t.jpg': img,
    'val/ILSVRC2012_val_00000001.JPEG': img,
    'val/ILSVRC2012_val_00000002.JPEG': img,
    'LOC_val_solution.csv': `\uFEFF${csv.join('\r\n')}`,
    'bom.csv': `\uFEFF${csv.join('\n')}`,
    'crlf.csv': csv.join('\r\n'),
    'gt.txt': '\uFEFF2\r\n1\r\n',
    'synsets.txt': '\uFEFFn00000002 two\r\nn00000003 three, 3\r\n',
  });
  const { val } = await listing(root);
  assert.deepEqual(val.labels, [1, 0]);
  const want = new Map([
    ['ILSVRC2012_val_00000001', 'n00000003'],
    ['ILSVRC2012_val_00000002', 'n00000002'],
  ]);
  assert.deepEqual(readLocValSolution(path.join(root, 'bom.csv')), want);
  assert.deepEqual(readLocValSolution(path.join(root, 'crlf.csv')), want);
  const meta = new Map([
    [1, 'n00000002'],
    [2, 'n00000003'],
  ]);
  assert.deepEqual(readDevkitGroundTruth(path.join(root, 'gt.txt'), meta, 'meta.mat'), want);
  assert.deepEqual(readSynsetMapping(path.join(root, 'synsets.txt')), {
    wnids: ['n00000002', 'n00000003'],
    names: ['two', 'three, 3'],
  });
});

test('an empty nested class is still empty; an unknown val folder counts its nested images', async (t) => {
  const root = tempDir(t);
  const img = await makeImage(8, 8);
  writeFiles(root, {
    'train/a/x.jpg': img,
    'train/b/sub/notes.txt': 'no images at any depth',
    'val/a/x.jpg': img,
    'val/zz/one.jpg': img,
    'val/zz/sub/two.jpg': img,
  });
  mkdirSync(path.join(root, 'train/b/empty'));
  const { classes, val, skips } = await listing(root);
  assert.deepEqual(classes, ['a', 'b']);
  assert.deepEqual(val.labels, [0]);
  assert.deepEqual(skips.stats(), {
    skipped: 3,
    byReason: { not_an_image: 1, unknown_class: 2 },
    notes: { empty_class: 1 },
  });
});

test("the devkit's meta.mat is looked for where the docs say; missing, the error names every place", async (t) => {
  const root = tempDir(t);
  const img = await makeImage(8, 8);
  // The ground truth copied next to val/, the devkit unpacked beside it (meta.mat in its data/).
  writeFiles(root, {
    'train/n01440764/a.jpg': img,
    'train/n02100735/b.jpg': img,
    'val/ILSVRC2012_val_00000001.JPEG': img,
    'val/ILSVRC2012_val_00000002.JPEG': img,
    'ILSVRC2012_validation_ground_truth.txt': '2\n1\n',
    'ILSVRC2012_devkit_t12/data/meta.mat': devkitMeta([
      { id: 1, wnid: 'n01440764', words: 'tench' },
      { id: 2, wnid: 'n02100735', words: 'English setter' },
    ]),
  });
  assert.deepEqual((await listing(root)).val.labels, [1, 0]);

  const bare = tempDir(t);
  writeFiles(bare, {
    'train/n01440764/a.jpg': img,
    'val/ILSVRC2012_val_00000001.JPEG': img,
    'labels/ILSVRC2012_validation_ground_truth.txt': '1\n',
  });
  const gt = path.join(bare, 'labels/ILSVRC2012_validation_ground_truth.txt');
  const err = await listing(bare, { val_labels: gt }).catch((e: Error) => e);
  assert.ok(err instanceof DataError);
  for (const place of ['labels', 'val', '.', 'ILSVRC2012_devkit_t12/data'])
    assert.ok(err.message.includes(path.join(bare, place, 'meta.mat')), `${place}: ${err.message}`);
  assert.match(err.message, /data\.devkit_meta/);
  assert.equal(err.message.split('\n').length, 1);
});
