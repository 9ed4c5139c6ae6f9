import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { DataError } from '../../src/data/errors.js';
import { expandBraces } from '../../src/data/formats/braces.js';
import { crc32c, maskedCrc32c } from '../../src/data/formats/crc32c.js';
import { readIdx } from '../../src/data/formats/idx.js';
import {
  readDevkitGroundTruth,
  readDevkitMeta,
  readLocValSolution,
  readSynsetMapping,
} from '../../src/data/formats/imagenet-labels.js';
import { readMat } from '../../src/data/formats/matlab.js';
import { listTar } from '../../src/data/formats/tar-index.js';
import { devkitMeta, tarBuffer, tempDir } from './helpers.js';

/** Bit-at-a-time CRC32C straight from the definition, to check the table-driven one. */
function referenceCrc32c(data: Uint8Array): number {
  let c = 0xffffffff;
  for (const byte of data) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  }
  return ~c >>> 0;
}

test('crc32c matches the RFC 3720 / iSCSI check values and a bitwise reference', () => {
  assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
  assert.equal(crc32c(new Uint8Array(32)), 0x8a9136aa);
  assert.equal(crc32c(new Uint8Array(32).fill(0xff)), 0x62a8ab43);
  assert.equal(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i)), 0x46dd794e);
  const data = Uint8Array.from({ length: 1000 }, (_, i) => (i * 131 + 7) & 255);
  for (const [a, b] of [
    [0, 1000],
    [3, 17],
    [5, 999],
    [1, 1],
  ]) {
    assert.equal(crc32c(data.subarray(a, b)), referenceCrc32c(data.subarray(a, b)), `slice ${a}..${b}`);
  }
  // TFRecord's mask: rotate right 15, add 0xa282ead8.
  const c = crc32c(Buffer.from('abc'));
  assert.equal(maskedCrc32c(Buffer.from('abc')), ((((c >>> 15) | (c << 17)) >>> 0) + 0xa282ead8) >>> 0);
});

test('brace expansion: zero-padded ranges, lists, several groups', () => {
  assert.deepEqual(expandBraces('a-{000..002}.tar'), ['a-000.tar', 'a-001.tar', 'a-002.tar']);
  assert.deepEqual(expandBraces('{train,val}-{8..10}'), [
    'train-8',
    'train-9',
    'train-10',
    'val-8',
    'val-9',
    'val-10',
  ]);
  assert.deepEqual(expandBraces('x/{a,b{1..2}}'), ['x/a', 'x/b1', 'x/b2']);
  assert.deepEqual(expandBraces('plain.tar'), ['plain.tar']);
  assert.equal(expandBraces('imagenet-train-{000000..001281}.tar').length, 1282);
  assert.throws(() => expandBraces('a-{1..'), DataError);
  assert.throws(() => expandBraces('a-{5..1}'), /backwards/);
});

test('idx files: gzipped and raw read the same; truncation and wrong magic are errors naming the file', (t) => {
  const dir = tempDir(t);
  const header = Buffer.from([0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 3]);
  const body = Buffer.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  const raw = Buffer.concat([header, body]);
  writeFileSync(path.join(dir, 'a-idx3-ubyte'), raw);
  writeFileSync(path.join(dir, 'a-idx3-ubyte.gz'), gzipSync(raw));
  writeFileSync(path.join(dir, 'short'), raw.subarray(0, 20));
  writeFileSync(path.join(dir, 'float'), Buffer.from([0, 0, 0x0d, 1, 0, 0, 0, 0]));
  return (async () => {
    for (const f of ['a-idx3-ubyte', 'a-idx3-ubyte.gz']) {
      const a = await readIdx(path.join(dir, f));
      assert.deepEqual(a.dims, [2, 2, 3]);
      assert.deepEqual([...a.data], [...body]);
    }
    await assert.rejects(readIdx(path.join(dir, 'short')), /short: truncated/);
    await assert.rejects(readIdx(path.join(dir, 'float')), /float: not an idx file.*0xd/);
  })();
});

test('MAT-file reader reads a compressed struct array (devkit meta.mat layout)', () => {
  const buf = devkitMeta([
    { id: 1, wnid: 'n02119789', words: 'kit fox' },
    { id: 2, wnid: 'n02100735', words: 'English setter' },
  ]);
  const synsets = readMat(buf, 'meta.mat').get('synsets');
  assert.ok(synsets?.kind === 'struct');
  assert.deepEqual(synsets.fields, ['ILSVRC2012_ID', 'WNID', 'words']);
  assert.deepEqual(synsets.dims, [2, 1]);
  const second = synsets.elements[1];
  assert.deepEqual(second.ILSVRC2012_ID, { kind: 'numeric', dims: [1, 1], values: [2] });
  assert.deepEqual(second.words, { kind: 'char', dims: [1, 14], text: 'English setter' });
  assert.throws(() => readMat(Buffer.alloc(200), 'x.mat'), /x\.mat: not a little-endian level-5 MAT-file/);
});

test('devkit ground truth goes through meta.mat ids, not alphabetical order', (t) => {
  const dir = tempDir(t);
  // ImageNet's own ids: 1 = n02119789 (kit fox), 2 = n02100735, 3 = n01440764; alphabetical order differs.
  const meta = path.join(dir, 'meta.mat');
  writeFileSync(
    meta,
    devkitMeta([
      { id: 1, wnid: 'n02119789', words: 'kit fox' },
      { id: 2, wnid: 'n02100735', words: 'English setter' },
      { id: 3, wnid: 'n01440764', words: 'tench' },
      { id: 1001, wnid: 'n00001740', words: 'entity' },
    ]),
  );
  const gt = path.join(dir, 'ILSVRC2012_validation_ground_truth.txt');
  writeFileSync(gt, '3\n1\n2\n');
  const labels = readDevkitGroundTruth(gt, readDevkitMeta(meta), meta);
  assert.deepEqual(
    [...labels],
    [
      ['ILSVRC2012_val_00000001', 'n01440764'],
      ['ILSVRC2012_val_00000002', 'n02119789'],
      ['ILSVRC2012_val_00000003', 'n02100735'],
    ],
  );
  writeFileSync(gt, '3\n1001\n7\n');
  assert.throws(
    () => readDevkitGroundTruth(gt, readDevkitMeta(meta), meta),
    /ground_truth\.txt:3: label '7' is not an ILSVRC2012_ID/,
  );
});

test('Kaggle LOC_val_solution.csv and LOC_synset_mapping.txt', (t) => {
  const dir = tempDir(t);
  const csv = path.join(dir, 'LOC_val_solution.csv');
  writeFileSync(
    csv,
    'ImageId,PredictionString\nILSVRC2012_val_00008726,n02119789 255 142 454 329 n02119789 44 21 322 295\n',
  );
  assert.deepEqual([...readLocValSolution(csv)], [['ILSVRC2012_val_00008726', 'n02119789']]);
  writeFileSync(csv, 'id,label\n');
  assert.throws(() => readLocValSolution(csv), /expected a header 'ImageId,PredictionString'/);
  const map = path.join(dir, 'LOC_synset_mapping.txt');
  writeFileSync(map, 'n01440764 tench, Tinca tinca\nn01443537 goldfish, Carassius auratus\n');
  assert.deepEqual(readSynsetMapping(map).wnids, ['n01440764', 'n01443537']);
});

test('tar header walk lists members and notices truncation', async (t) => {
  const dir = tempDir(t);
  const long = `${'d'.repeat(120)}/x.cls`;
  const tarBuf = await tarBuffer([
    { name: 'a.jpg', data: Buffer.alloc(700, 1) },
    { name: 'a.cls', data: '3' },
    { name: long, data: '4' },
  ]);
  const file = path.join(dir, 's.tar');
  writeFileSync(file, tarBuf);
  const full = await listTar(file);
  assert.equal(full.complete, true);
  assert.deepEqual(
    full.members.map((m) => [m.name, m.size]),
    [
      ['a.jpg', 700],
      ['a.cls', 1],
      [long, 1],
    ],
  );
  writeFileSync(file, tarBuf.subarray(0, 1000));
  const cut = await listTar(file);
  assert.equal(cut.complete, false);
  assert.deepEqual(
    cut.members.map((m) => m.name),
    [],
  );
  await assert.rejects(listTar(path.join(dir, 'missing.tar')), /cannot open shard .*missing\.tar/);
});
