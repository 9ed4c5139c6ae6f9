import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dataConfigSchema, resolveDataPaths } from '../../src/data/config.js';

test('defaults: only source is required', () => {
  const cfg = dataConfigSchema.parse({ source: 'imagefolder', path: 'x' });
  assert.equal(cfg.augment, 'auto');
  assert.equal(cfg.image_size, null);
  assert.equal(cfg.crop_pct, 0.875);
  assert.deepEqual(cfg.rrc_scale, [0.08, 1]);
  assert.equal(cfg.workers, 'auto');
  assert.deepEqual(cfg.train, { from: null, range: null, limit: null, num_samples: null });
  assert.equal(dataConfigSchema.safeParse({ path: 'x' }).success, false);
});

test('strict: unknown keys and bad values are rejected with their path', () => {
  const r = dataConfigSchema.safeParse({
    source: 'mnist',
    imgsize: 3,
    train: { range: [5, 2], lmit: 3 },
    augment: 'heavy',
  });
  assert.equal(r.success, false);
  const issues = r.error!.issues.map((i) => `${i.path.join('.')}: ${i.code}`);
  assert.ok(issues.includes(': unrecognized_keys'), issues.join('; '));
  assert.ok(issues.includes('train: unrecognized_keys'));
  assert.ok(issues.includes('augment: invalid_value'));
  const range = dataConfigSchema.safeParse({ source: 'mnist', train: { range: [5, 2] } });
  assert.match(JSON.stringify(range.error?.issues), /start < end/);
  const ms = dataConfigSchema.safeParse({ source: 'mnist', mean: [0.5] });
  assert.match(JSON.stringify(ms.error?.issues), /mean and std together/);
});

test('relative paths resolve against the config file folder, not the working directory', () => {
  const cfg = dataConfigSchema.parse({
    source: 'imagefolder',
    path: '../data/x',
    val_labels: 'v.csv',
    cache: '/abs/c',
  });
  const r = resolveDataPaths(cfg, '/proj/configs');
  assert.equal(r.path, '/proj/data/x');
  assert.equal(r.val_labels, '/proj/configs/v.csv');
  assert.equal(r.cache, '/abs/c');
  assert.equal(r.val_path, null);
});
