/**
 * Images the decoder reads with a warning (libjpeg's "extraneous bytes before marker", met
 * in ImageNet) are kept by default and counted apart; what can't be decoded is skipped.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import sharp from 'sharp';
import { createLoader } from '../../src/data/index.js';
import { formatInspect, inspectData } from '../../src/data/inspect.js';
import { decoderWarning } from '../../src/data/transforms.js';
import {
  collect,
  config,
  jpegWithWarning,
  makeImage,
  recordingLogger,
  tempDir,
  truncatedJpeg,
  writeFiles,
} from './helpers.js';

test('the warning fixture is what libjpeg warns about, and decodes', async () => {
  const jpg = await jpegWithWarning();
  await assert.rejects(sharp(jpg, { failOn: 'warning' }).raw().toBuffer(), /extraneous bytes before marker/);
  const { info } = await sharp(jpg, { failOn: 'error' }).raw().toBuffer({ resolveWithObject: true });
  assert.deepEqual([info.width, info.height], [32, 24]);
});

test('a JPEG decoded with a warning is kept by default and counted apart; a truncated one is skipped', async (t) => {
  const root = tempDir(t);
  const good = await makeImage(32, 24);
  writeFiles(root, {
    'train/a/good.jpg': good,
    'train/a/warned.jpg': await jpegWithWarning(),
    'train/b/cut.jpg': await truncatedJpeg(),
    'train/b/good.jpg': good,
    'val/a/warned.jpg': await jpegWithWarning(),
    'val/b/good.jpg': good,
  });
  const log = recordingLogger();
  const open = (over: Record<string, unknown>) =>
    createLoader(config({ source: 'imagefolder', path: root, image_size: 16, ...over }), {
      seed: 0,
      batchSize: 8,
      baseDir: '/',
      logger: log,
    });
  const loader = await open({});
  const [val] = await collect(loader, 'val', 0);
  assert.deepEqual([...val.y], [0, 1], 'the warned image is read with its label');
  await collect(loader, 'val', 1);
  assert.deepEqual(loader.stats(), { skipped: 0, byReason: {}, notes: { decode_warning: 1 } });
  const warned = log.warnings.filter((w) => w.obj.reason === 'decode_warning');
  assert.equal(warned.length, 1, 'logged once, not every epoch');
  // libvips's error buffer is shared by its threads: under concurrent decodes the decoder's
  // line can be lost (decoderWarning's test below covers the shapes); never the wrapper text.
  assert.match(String(warned[0].obj.detail), /extraneous bytes before marker|gave no detail/);
  assert.doesNotMatch(String(warned[0].obj.detail), /failOn/);
  assert.match(String(warned[0].obj.file), /val\/a\/warned\.jpg$/);
  await loader.close();

  const trainAsVal = await open({ val_path: `${root}/train` });
  const [all] = await collect(trainAsVal, 'val', 0);
  assert.equal(all.n, 3, 'the truncated JPEG cannot be decoded: skipped');
  assert.deepEqual(trainAsVal.stats(), {
    skipped: 1,
    byReason: { corrupt_image: 1 },
    notes: { decode_warning: 1 },
  });
  await trainAsVal.close();

  // fail_on: warning (the strict setting) still drops it, as a corrupt image.
  const strict = await open({ fail_on: 'warning' });
  assert.deepEqual([...(await collect(strict, 'val', 0))[0].y], [1]);
  assert.deepEqual(strict.stats(), { skipped: 1, byReason: { corrupt_image: 1 } });
  await strict.close();

  // inspect counts it as decoded, with the warning apart.
  const report = await inspectData(config({ source: 'imagefolder', path: root, image_size: 16 }), {
    sample: 10,
  });
  assert.equal(report.corrupt, 1);
  assert.equal(report.warned, 2);
  assert.match(formatInspect(report), /decode check {2}5 decoded \(2 with a decoder warning\), 1 corrupt/);
});

test('decoderWarning keeps the decoder lines of a libvips error, once each, and drops its failOn wrapper', () => {
  const jpeg = 'VipsJpeg: Corrupt JPEG data: 3 extraneous bytes before marker 0xdb';
  // Shapes sharp 0.34 / libvips 8.17 gave for 16 concurrent strict decodes.
  assert.equal(decoderWarning(jpeg), jpeg);
  assert.equal(decoderWarning(`${jpeg}\n${jpeg}\n${jpeg}`), jpeg);
  assert.equal(
    decoderWarning(`Warning treated as error due to failOn setting\nread gave 1 warnings\n${jpeg}`),
    jpeg,
  );
  assert.equal(decoderWarning('Warning treated as error due to failOn setting'), '');
  assert.equal(
    decoderWarning(
      'Warning treated as error due to failOn setting\nerror in tile 0 x 0\nerror in tile 0 x 8\nread gave 1 warnings',
    ),
    '',
  );
  assert.equal(decoderWarning(`VipsPng: bad CRC\n${jpeg}`), `VipsPng: bad CRC; ${jpeg}`);
});
