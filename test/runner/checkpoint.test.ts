/** Checkpoint files: format round trip, corruption refused, atomic writes, keep last k + best. */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { writeFileAtomic } from '../../src/runner/atomic.js';
import {
  decodeCheckpoint,
  encodeCheckpoint,
  readCheckpointHeader,
} from '../../src/runner/checkpoint-format.js';
import { CheckpointStore } from '../../src/runner/checkpoints.js';
import { tempDir } from './helpers.js';

const content = (iter: number) => ({
  tensors: {
    'conv0/W': {
      dtype: 'float32' as const,
      shape: [2, 3],
      data: Float32Array.from([1, 2, 3, 4.5, -6, Math.PI]),
    },
    odd: { dtype: 'float32' as const, shape: [3], data: Float32Array.from([7, 8, 9]) },
    count: { dtype: 'int32' as const, shape: [1], data: Int32Array.from([iter]) },
  },
  scalars: { step: iter, 'rule/mirror': 3 },
  runner: { iter, interval: { loss: 0.1 + 0.2, samples: 3 } },
});

describe('checkpoint format', () => {
  it('round-trips tensors, scalars and runner state exactly', () => {
    const bytes = Buffer.concat(encodeCheckpoint(content(7)));
    assert.equal(bytes.length % 8, 0);
    const back = decodeCheckpoint<any>(bytes);
    assert.deepEqual(back, content(7));
    assert.equal(back.runner.interval.loss, 0.1 + 0.2); // float64 survives JSON
  });

  it('refuses damaged or truncated files', () => {
    const bytes = Buffer.concat(encodeCheckpoint(content(1)));
    const flipped = Buffer.from(bytes);
    flipped[flipped.length - 6] ^= 0x40; // inside the last tensor (`count`)
    assert.throws(() => decodeCheckpoint(flipped), /tensor \w+ is corrupt/);
    const header = Buffer.from(bytes);
    header[20] ^= 1;
    assert.throws(() => decodeCheckpoint(header), /corrupt header/);
    assert.throws(() => decodeCheckpoint(bytes.subarray(0, bytes.length - 16)), /corrupt or truncated/);
    assert.throws(() => decodeCheckpoint(Buffer.from('not a checkpoint at all')), /not a wtrain checkpoint/);
  });
});

describe('checkpoint store', () => {
  it('writes atomically (no temp files left), keeps the last k and the best', () => {
    const dir = path.join(tempDir('wtrain-ckpt-'), 'checkpoints');
    const store = new CheckpointStore(dir, 2);
    store.save(content(1), 1, false);
    store.save(content(2), 2, true);
    store.save(content(3), 3, false);
    store.save(content(4), 4, false);
    assert.deepEqual(readdirSync(dir).sort(), ['best.wtc', 'ckpt-000000003.wtc', 'ckpt-000000004.wtc']);
    assert.equal(store.load<any>(store.best()!).runner.iter, 2);
    assert.equal(store.load<any>(store.latest()!).runner.iter, 4);
    assert.equal(readCheckpointHeader<any>(store.latest()!).runner.iter, 4);
    store.save(content(5), 5, true);
    assert.equal(store.load<any>(store.best()!).runner.iter, 5);
  });

  it('an atomic write replaces the whole file or nothing', () => {
    const dir = tempDir('wtrain-atomic-');
    const file = path.join(dir, 'f');
    writeFileSync(file, 'old');
    writeFileAtomic(file, ['new ', Buffer.from('content')]);
    assert.equal(readFileSync(file, 'utf8'), 'new content');
    assert.deepEqual(readdirSync(dir), ['f']);
    assert.throws(() => writeFileAtomic(path.join(dir, 'missing', 'g'), 'x'));
    assert.equal(statSync(file).size, 11);
  });
});
