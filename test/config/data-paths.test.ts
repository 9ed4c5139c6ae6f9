/** Relative data paths resolve where they were written: the writing file's folder, or the shell's for --set. */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config/load.js';

function tree(): string {
  const root = mkdtempSync(path.join(tmpdir(), 'wtrain-paths-'));
  mkdirSync(path.join(root, 'base'));
  mkdirSync(path.join(root, 'exp'));
  writeFileSync(
    path.join(root, 'base', 'b.yaml'),
    'data:\n  source: imagefolder\n  path: ../woof\n  val_labels: labels.txt\nsmoke:\n  data:\n    cache: smoke-cache\n',
  );
  writeFileSync(path.join(root, 'exp', 'c.yaml'), 'extends: ../base/b.yaml\ndata:\n  val_path: val\n');
  return root;
}

describe('data paths', () => {
  it('a parent file’s paths are relative to the parent, the child’s to the child', () => {
    const root = tree();
    const { config } = loadConfig(path.join(root, 'exp', 'c.yaml'));
    assert.equal(config.data.path, path.join(root, 'woof'));
    assert.equal(config.data.val_labels, path.join(root, 'base', 'labels.txt'));
    assert.equal(config.data.val_path, path.join(root, 'exp', 'val'));
  });

  it('a smoke section’s paths are relative to the file that holds it', () => {
    const root = tree();
    const { config } = loadConfig(path.join(root, 'exp', 'c.yaml'), { smoke: true });
    assert.equal(config.data.cache, path.join(root, 'base', 'smoke-cache'));
  });

  it('--set paths are relative to the working directory; absolute ones stay', () => {
    const root = tree();
    const { config } = loadConfig(path.join(root, 'exp', 'c.yaml'), {
      sets: ['data.path=../here', `data.val_path=${path.join(root, 'abs')}`],
    });
    assert.equal(config.data.path, path.resolve(process.cwd(), '../here'));
    assert.equal(config.data.val_path, path.join(root, 'abs'));
    assert.equal(config.data.val_labels, path.join(root, 'base', 'labels.txt'));
  });
});
