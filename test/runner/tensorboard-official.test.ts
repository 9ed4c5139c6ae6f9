/**
 * wtrain's TensorBoard files read with TensorFlow's own message definitions (not with
 * src/runner/tensorboard/proto.ts), and loaded the way TensorBoard's two loaders load a
 * run: the Python event accumulator (a SessionLog START drops every point read so far at
 * its step or later) and the Rust data server (a point drops the same tag's points at its
 * step or later).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import protobuf from 'protobufjs';
import { runFromConfig } from '../../src/runner/session.js';
import { readRecords } from '../../src/runner/tensorboard/tfrecord.js';
import { TensorBoardWriter } from '../../src/runner/tensorboard/writer.js';
import { fakeStack } from './fake-stack.js';
import { quietOpts, tempDir, writeConfig } from './helpers.js';

/**
 * The messages of tensorflow/core/util/event.proto and tensorflow/core/framework/summary.proto
 * (TensorFlow 2.x) as published, field for field; TensorProto (tensor.proto) is left empty,
 * it does not occur in scalar files.
 */
const OFFICIAL = `
syntax = "proto3";
package tensorflow;
message Event {
  double wall_time = 1;
  int64 step = 2;
  oneof what {
    string file_version = 3;
    bytes graph_def = 4;
    Summary summary = 5;
    LogMessage log_message = 6;
    SessionLog session_log = 7;
    TaggedRunMetadata tagged_run_metadata = 8;
    bytes meta_graph_def = 9;
  }
}
message LogMessage {
  enum Level { UNKNOWN = 0; DEBUGGING = 10; INFO = 20; WARN = 30; ERROR = 40; FATAL = 50; }
  Level level = 1;
  string message = 2;
}
message SessionLog {
  enum SessionStatus { STATUS_UNSPECIFIED = 0; START = 1; STOP = 2; CHECKPOINT = 3; }
  SessionStatus status = 1;
  string checkpoint_path = 2;
  string msg = 3;
}
message TaggedRunMetadata {
  string tag = 1;
  bytes run_metadata = 2;
}
message TensorProto {}
message HistogramProto {
  double min = 1;
  double max = 2;
  double num = 3;
  double sum = 4;
  double sum_squares = 5;
  repeated double bucket_limit = 6 [packed = true];
  repeated double bucket = 7 [packed = true];
}
message Summary {
  message Image {
    int32 height = 1;
    int32 width = 2;
    int32 colorspace = 3;
    bytes encoded_image_string = 4;
  }
  message Audio {
    float sample_rate = 1;
    int64 num_channels = 2;
    int64 length_frames = 3;
    bytes encoded_audio_string = 4;
    string content_type = 5;
  }
  message Value {
    string node_name = 7;
    string tag = 1;
    oneof value {
      float simple_value = 2;
      bytes obsolete_old_style_histogram = 3;
      Image image = 4;
      HistogramProto histo = 5;
      Audio audio = 6;
      TensorProto tensor = 8;
    }
  }
  repeated Value value = 1;
}
`;

const Event = protobuf.parse(OFFICIAL, { keepCase: true }).root.lookupType('tensorflow.Event');
const START = 1;

type Official = {
  wall_time?: number;
  step?: number;
  file_version?: string;
  summary?: { value: { tag: string; simple_value?: number }[] };
  log_message?: unknown;
  session_log?: { status?: number };
};

function officialEvents(file: string): Official[] {
  return readRecords(readFileSync(file)).map(
    (r) => Event.toObject(Event.decode(r), { longs: Number, enums: Number }) as Official,
  );
}

const eventFiles = (dir: string) =>
  readdirSync(dir)
    .filter((f) => f.startsWith('events.out.tfevents.'))
    .sort()
    .map((f) => path.join(dir, f));

type Points = Record<string, { step: number; value: number }[]>;

/** The scalars TensorBoard's Python event accumulator shows (files in name order, purge on START). */
function pythonView(dir: string): Points {
  const points: Points = {};
  let version = 0;
  for (const file of eventFiles(dir)) {
    for (const e of officialEvents(file)) {
      const step = e.step ?? 0;
      if (e.file_version) version = Number(e.file_version.split('brain.Event:')[1]);
      if (version >= 2 && e.session_log?.status === START) {
        for (const tag of Object.keys(points)) points[tag] = points[tag].filter((p) => p.step < step);
      }
      for (const v of e.summary?.value ?? []) {
        if (v.simple_value === undefined) continue;
        points[v.tag] = [...(points[v.tag] ?? []), { step, value: v.simple_value }];
      }
    }
  }
  return points;
}

/** The scalars TensorBoard's Rust data server shows (per tag, a point preempts those at its step or later). */
function rustView(dir: string): Points {
  const points: Points = {};
  for (const file of eventFiles(dir)) {
    for (const e of officialEvents(file)) {
      const step = e.step ?? 0;
      for (const v of e.summary?.value ?? []) {
        const kept = (points[v.tag] ?? []).filter((p) => p.step < step);
        points[v.tag] = [...kept, { step, value: v.simple_value ?? Number.NaN }];
      }
    }
  }
  return points;
}

const series = (n: number[], tag: string, offset = 0): Points => ({
  [tag]: n.map((step) => ({ step, value: step + offset })),
});

describe("TensorBoard files read with TensorFlow's event.proto", () => {
  it('the resume marker is a SessionLog START (field 7), not a log_message (field 6)', () => {
    const dir = tempDir('wtrain-tb-');
    new TensorBoardWriter(dir, 0, 1_700_000_000_000).close();
    const w = new TensorBoardWriter(dir, 42, 1_700_000_000_500);
    w.scalars(43, { 'train/loss': 0.5 }, 1_700_000_001);
    w.close();
    const [first, second] = eventFiles(dir).map(officialEvents);
    assert.equal(first.length, 1);
    assert.equal(first[0].file_version, 'brain.Event:2');
    assert.equal(second[0].file_version, 'brain.Event:2');
    assert.equal(second[1].log_message, undefined);
    assert.deepEqual(second[1].session_log, { status: START });
    assert.equal(second[1].step, 43);
    assert.deepEqual(second[2].summary, { value: [{ tag: 'train/loss', simple_value: 0.5 }] });
    assert.equal(second.filter((e) => e.file_version).length, 1);
  });

  it('a resume within the same second gets its own file, named to sort after the first', () => {
    const dir = tempDir('wtrain-tb-');
    const a = new TensorBoardWriter(dir, 0, 1_700_000_000_100);
    for (const s of [0, 2, 4, 6, 8, 10]) a.scalars(s, { loss: s });
    a.close(); // checkpoint at 6, then 8 and 10 logged, then killed
    const b = new TensorBoardWriter(dir, 6, 1_700_000_000_900);
    for (const s of [8, 10, 12]) b.scalars(s, { loss: s + 0.5 });
    b.close();
    const files = eventFiles(dir);
    assert.equal(files.length, 2);
    assert.equal(files[0], a.file);
    assert.equal(files[1], b.file);
    const expected = {
      loss: [...series([0, 2, 4, 6], 'loss').loss, ...series([8, 10, 12], 'loss', 0.5).loss],
    };
    assert.deepEqual(pythonView(dir), expected);
    assert.deepEqual(rustView(dir), expected);
  });

  it('a run started again from step 0 in the same folder drops all the earlier points', () => {
    const dir = tempDir('wtrain-tb-');
    const a = new TensorBoardWriter(dir, 0, 1_700_000_000_000);
    for (const s of [0, 3, 6]) a.scalars(s, { 'angles/matrix/000_conv1': s });
    a.close(); // killed before its first checkpoint
    const b = new TensorBoardWriter(dir, 0, 1_700_000_000_000);
    for (const s of [0, 3]) b.scalars(s, { 'angles/matrix/000_conv1': s + 0.5 });
    b.close();
    assert.deepEqual(pythonView(dir), series([0, 3], 'angles/matrix/000_conv1', 0.5));
  });
});

/** Without the tags that depend on the machine's speed. */
const learning = (p: Points): Points =>
  Object.fromEntries(Object.entries(p).filter(([tag]) => tag !== 'img_per_s' && tag !== 'data_wait'));

describe('TensorBoard after a crash and a resume (fake engine, 5 batches an epoch)', () => {
  const cases = [
    { what: 'a periodic checkpoint mid-epoch (12), crash in step 14', sets: [], crashAt: 14 },
    {
      what: "a periodic checkpoint at an epoch's last batch (5, not a best), crash in step 7",
      sets: ['run.checkpoint_every=5', 'run.keep_best=false'],
      crashAt: 7,
    },
  ];
  for (const c of cases) {
    it(`shows the unbroken run's points: ${c.what}`, async () => {
      const root = tempDir();
      const request = (runDir: string, resume?: 'auto') => ({
        configFile: writeConfig(root),
        sets: c.sets,
        runDir: path.join(root, runDir),
        resume,
      });
      await runFromConfig(request('a'), { ...quietOpts, stack: fakeStack() });
      const crash = fakeStack({
        onStep: (s) => {
          if (s === c.crashAt) throw new Error('simulated crash');
        },
      });
      await assert.rejects(runFromConfig(request('b'), { ...quietOpts, stack: crash }), /simulated crash/);
      await runFromConfig(request('b', 'auto'), { ...quietOpts, stack: fakeStack() });
      for (const view of [pythonView, rustView]) {
        const unbroken = learning(view(path.join(root, 'a')));
        assert.ok(Object.keys(unbroken).length > 10);
        assert.deepEqual(learning(view(path.join(root, 'b'))), unbroken);
      }
    });
  }
});
