import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { resolveDataPaths } from '../../src/data/config.js';
import { createLoader } from '../../src/data/index.js';
import { prepareCache } from '../../src/data/prepare.js';
import {
  collect,
  config,
  labelsOf,
  makeImage,
  recordingLogger,
  tempDir,
  truncatedJpeg,
  writeFiles,
} from './helpers.js';

async function folder(root: string): Promise<void> {
  for (let i = 0; i < 9; i++)
    writeFiles(root, {
      [`train/c${i % 3}/${i}.JPEG`]: await makeImage(30 + i, 20, { rgb: [0, i * 25, 60] }),
    });
  for (let i = 0; i < 4; i++) writeFiles(root, { [`val/c${i % 3}/${i}.JPEG`]: await makeImage(24, 36) });
  writeFiles(root, { 'train/c1/broken.JPEG': await truncatedJpeg() });
}

test('prepare writes a packed cache that reads back like the source, with no decoding', async (t) => {
  const root = tempDir(t);
  await folder(root);
  const cacheDir = path.join(root, 'cache-16');
  const cfg = config({ source: 'imagefolder', path: '.', image_size: 16, cache: 'cache-16' });
  const { meta } = await prepareCache(resolveDataPaths(cfg, root));
  assert.equal(meta.storedSize, 18, 'floor(16 / 0.875)');
  assert.deepEqual(meta.splits, { train: { count: 9, skipped: 1 }, val: { count: 4, skipped: 0 } });

  // Eval from the cache = eval from the JPEGs (both: shorter side to 18, center 16x16... up to resampling twice).
  const direct = await createLoader({ ...cfg, cache: null }, { seed: 0, batchSize: 4, baseDir: root });
  const log = recordingLogger();
  const viaCache = await createLoader(cfg, { seed: 0, batchSize: 4, baseDir: root, logger: log });
  assert.equal(viaCache.info.source, 'imagefolder');
  assert.equal(viaCache.info.trainSize, 9);
  assert.equal(log.warnings.length, 0);
  const [a, b] = [await collect(direct, 'val', 0), await collect(viaCache, 'val', 0)];
  assert.deepEqual(labelsOf(a), labelsOf(b));
  let maxDiff = 0;
  for (const [i, x] of a.entries()) {
    for (let k = 0; k < x.x.length; k++) maxDiff = Math.max(maxDiff, Math.abs(x.x[k] - b[i].x[k]));
  }
  assert.ok(maxDiff <= 40, `cached eval images close to direct ones (max diff ${maxDiff})`);
  const train = await collect(viaCache, 'train', 0);
  assert.equal(train.length, 2);
  assert.equal(train[0].x.length, 4 * 16 * 16 * 3);

  // The same cache read as `source: cache`; deterministic like any source.
  const asSource = config({ source: 'cache', path: cacheDir });
  const c1 = await createLoader(asSource, { seed: 3, batchSize: 4, baseDir: '/' });
  const c2 = await createLoader(asSource, { seed: 3, batchSize: 4, baseDir: '/' });
  assert.deepEqual(labelsOf(await collect(c1, 'train', 1)), labelsOf(await collect(c2, 'train', 1)));
  assert.deepEqual(c1.info.classNames, ['c0', 'c1', 'c2']);
  await assert.rejects(
    createLoader({ ...asSource, image_size: 32 }, { seed: 0, batchSize: 4, baseDir: '/' }),
    /data\.image_size: 32, but the cache at .* was prepared at 16/,
  );
  for (const l of [direct, viaCache, c1, c2]) await l.close();
});

test('a cache made from another config is not used (warning), the source is read instead', async (t) => {
  const root = tempDir(t);
  await folder(root);
  const cfg = config({ source: 'imagefolder', path: root, image_size: 16, cache: path.join(root, 'c') });
  await prepareCache(cfg, { splits: ['val', 'train'] });
  const log = recordingLogger();
  const other = await createLoader(
    { ...cfg, image_size: 24 },
    { seed: 0, batchSize: 4, baseDir: '/', logger: log },
  );
  assert.equal(other.info.height, 24);
  assert.match(log.warnings[0].msg, /cache was prepared from a different data config/);
  await other.close();
  const missing = recordingLogger();
  const l = await createLoader(
    { ...cfg, cache: path.join(root, 'none') },
    { seed: 0, batchSize: 4, baseDir: '/', logger: missing },
  );
  assert.match(missing.warnings[0].msg, /has not been prepared/);
  await l.close();
  // A cache listed by the old ImageFolder rules (no `listing` in its fingerprint) is not used either.
  const metaFile = path.join(root, 'c', 'meta.json');
  const meta = JSON.parse(readFileSync(metaFile, 'utf8'));
  writeFileSync(
    metaFile,
    JSON.stringify({ ...meta, fingerprint: meta.fingerprint.replace(',"listing":2', '') }),
  );
  const oldRules = recordingLogger();
  const o = await createLoader(cfg, { seed: 0, batchSize: 4, baseDir: '/', logger: oldRules });
  assert.match(oldRules.warnings[0]?.msg ?? 'no warning', /cache was prepared from a different data config/);
  await o.close();
});
