/** The hand-written TensorBoard writer: TFRecord framing, masked CRC-32C, Event/Summary protos. */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { crc32c, maskedCrc32c } from '../../src/data/formats/crc32c.js';
import { decodeEvent, EventType } from '../../src/runner/tensorboard/proto.js';
import { frameRecord, readRecords } from '../../src/runner/tensorboard/tfrecord.js';
import { readEventFile, TensorBoardWriter } from '../../src/runner/tensorboard/writer.js';
import { tempDir } from './helpers.js';

describe('TFRecord framing', () => {
  it("uses TensorFlow's masked CRC-32C (published values)", () => {
    assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
    assert.equal(maskedCrc32c(Buffer.alloc(0)), 0xa282ead8);
    assert.equal(maskedCrc32c(Buffer.from('foo')), 0xfebe8a61);
    assert.equal(maskedCrc32c(Buffer.from('123456789')), 0xc78ab0e5);
  });

  it('frames as length, masked CRC of length, data, masked CRC of data', () => {
    const framed = frameRecord(Buffer.from('foo'));
    assert.equal(framed.length, 8 + 4 + 3 + 4);
    assert.equal(framed.readBigUInt64LE(0), 3n);
    assert.equal(framed.readUInt32LE(8), maskedCrc32c(framed.subarray(0, 8)));
    assert.equal(framed.toString('latin1', 12, 15), 'foo');
    assert.equal(framed.readUInt32LE(15), 0xfebe8a61);
  });

  it('round-trips and detects corruption', () => {
    const a = frameRecord(Buffer.from('first'));
    const b = frameRecord(Buffer.alloc(0));
    const both = Buffer.concat([a, b]);
    assert.deepEqual(
      readRecords(both).map((r) => Buffer.from(r).toString()),
      ['first', ''],
    );
    const bad = Buffer.from(both);
    bad[13] ^= 1;
    assert.throws(() => readRecords(bad), /bad data CRC/);
    assert.throws(() => readRecords(both.subarray(0, both.length - 2)), /truncated/);
  });
});

describe('TensorBoard event files', () => {
  it('writes scalars that read back with their tags, steps and values', () => {
    const dir = tempDir('wtrain-tb-');
    const w = new TensorBoardWriter(dir, 0, 1_700_000_000_000);
    w.scalars(10, { 'train/loss': 2.5, 'train/top1_error': 0.75, skipped: Number.NaN, none: null });
    w.scalars(20, { 'train/loss': 1.25 });
    w.close();
    const files = readdirSync(dir);
    assert.equal(files.length, 1);
    assert.match(files[0], /^events\.out\.tfevents\.1700000000\./);
    const events = readEventFile(path.join(dir, files[0]));
    assert.equal(events[0].fileVersion, 'brain.Event:2');
    assert.equal(events[0].wallTime, 1_700_000_000);
    assert.deepEqual(
      events.slice(1).map((e) => ({ step: e.step, scalars: e.scalars })),
      [
        {
          step: 10,
          scalars: [
            { tag: 'train/loss', value: 2.5 },
            { tag: 'train/top1_error', value: 0.75 },
          ],
        },
        { step: 20, scalars: [{ tag: 'train/loss', value: 1.25 }] },
      ],
    );
  });

  it('a writer resumed after batch 42 starts with a SessionLog START at step 43, the first it can log', () => {
    const dir = tempDir('wtrain-tb-');
    const w = new TensorBoardWriter(dir, 42);
    w.close();
    const events = readEventFile(path.join(dir, readdirSync(dir)[0]));
    assert.equal(events[1].step, 43);
    assert.equal(events[1].sessionStatus, 1);
  });

  it('encodes the wire format TensorFlow expects (field numbers)', () => {
    const bytes = EventType.encode(
      EventType.fromObject({ wall_time: 1, step: 3, summary: { value: [{ tag: 'a', simple_value: 0.5 }] } }),
    ).finish();
    // wall_time: field 1 (fixed64) = 0x09; step: field 2 (varint) = 0x10; summary: field 5 (bytes) = 0x2a;
    // Summary.value: field 1 = 0x0a; Value.tag: field 1 = 0x0a; Value.simple_value: field 2 (fixed32) = 0x15.
    assert.equal(Buffer.from(bytes).toString('hex'), '09000000000000f03f10032a0a0a080a0161150000003f');
    assert.deepEqual(decodeEvent(bytes).scalars, [{ tag: 'a', value: 0.5 }]);
    const dir = tempDir('wtrain-tb-');
    writeFileSync(path.join(dir, 'x'), frameRecord(bytes));
    assert.equal(readEventFile(path.join(dir, 'x'))[0].step, 3);
    assert.ok(readFileSync(path.join(dir, 'x')).length > bytes.length);
  });
});
