/**
 * TFRecord shards of `tf.train.Example`s (tfds keys, or TF-slim's, which the TPU and
 * Inception converters share), plain or GZIP/ZLIB-compressed. Every record is one stream
 * unit; unusable records stay in the stream marked `skip`, so counting by headers and
 * reading agree. Labels are yielded as stored; ./label-base.ts decides their base.
 */
import { errorMessage, type Skip, where } from '../errors.js';
import {
  decodeImageExample,
  type FeatureShape,
  type ImageExample,
  KEY_SETS,
  type ListKind,
} from '../formats/example.js';
import { countTfRecords, readTfRecords } from '../formats/tfrecord.js';
import type { StoredRef } from './label-base.js';
import { openShardSource } from './shards.js';
import type { DataSource, SourceContext } from './source.js';

const LIST_NAMES: Record<ListKind, string> = {
  bytesList: 'a bytes_list',
  floatList: 'a float_list',
  int64List: 'an int64_list',
};

const SUPPORTED = `expected ${Object.values(KEY_SETS)
  .map((k) => `${k.name} (${k.image}, ${k.label})`)
  .join(' or ')}`;

/** `'image/class/label' is a float_list, expected an int64_list`, or `... is missing`, or `... is empty`. */
function describeFeature(key: string, shape: FeatureShape, expected: ListKind): string {
  if (!shape) return `'${key}' is missing`;
  const want = LIST_NAMES[expected];
  if (!shape.list) return `'${key}' is an empty feature, expected ${want}`;
  if (shape.list !== expected) return `'${key}' is ${LIST_NAMES[shape.list]}, expected ${want}`;
  // The list is there: either it holds no value, or (image) its first value is empty.
  return shape.values > 0 ? `'${key}' holds an empty value` : `'${key}' is an empty list`;
}

/** Why a record with no usable image or label was skipped, naming the keys and their types. */
function missingSkip(ex: ImageExample & { keys: keyof typeof KEY_SETS }, at: string): Skip {
  const set = KEY_SETS[ex.keys];
  const problems = [
    !ex.image && describeFeature(set.image, ex.shapes.image, 'bytesList'),
    ex.label === undefined && describeFeature(set.label, ex.shapes.label, 'int64List'),
  ].filter(Boolean);
  // A label present with the wrong type is a bad label rather than a missing one.
  const reason = ex.image ? (ex.shapes.label ? 'bad_label' : 'missing_label') : 'missing_image';
  return { reason, where: at, detail: `${problems.join('; ')} (${set.name})` };
}

async function* readShard(file: string, verifyCrc: boolean): AsyncGenerator<StoredRef> {
  for await (const rec of readTfRecords(file, { verifyCrc })) {
    const at = where(file, { offset: rec.offset });
    if (!rec.data) {
      yield { label: -1, where: at, skip: rec.skip };
      continue;
    }
    let ex: ReturnType<typeof decodeImageExample>;
    try {
      ex = decodeImageExample(rec.data);
    } catch (err) {
      yield {
        label: -1,
        where: at,
        skip: { reason: 'bad_record', where: at, detail: `not a tf.train.Example: ${errorMessage(err)}` },
      };
      continue;
    }
    if (ex.keys === null) {
      const found = ex.found.length ? `keys ${ex.found.join(', ')}` : 'no keys';
      const unsupported = `tf.train.Example with ${found}: ${SUPPORTED}`;
      yield {
        label: -1,
        where: at,
        unsupported,
        skip: { reason: 'bad_record', where: at, detail: unsupported },
      };
      continue;
    }
    if (!ex.image || ex.label === undefined) {
      yield { label: -1, where: at, skip: missingSkip({ ...ex, keys: ex.keys }, at) };
      continue;
    }
    const set = KEY_SETS[ex.keys];
    yield { label: ex.label, where: at, bytes: ex.image, keys: `${set.image} + ${set.label}` };
  }
}

const TFDS_KEYS = `${KEY_SETS.tfds.image} + ${KEY_SETS.tfds.label}`;

export function openTfRecord(ctx: SourceContext): DataSource {
  return openShardSource(ctx, {
    name: 'tfrecord',
    count: (file) => countTfRecords(file, ctx.cfg.verify_crc),
    read: (file) => readShard(file, ctx.cfg.verify_crc),
    // tfds stores a ClassLabel, 0-based by its spec; TF-slim's keys are 0- or 1-based by converter.
    specBase: (keys) => (keys === TFDS_KEYS ? 0 : undefined),
    baseHint:
      "set data.label_base: 0 (TF-slim's converters) or 1 (the TPU imagenet_to_gcs.py and Inception build_imagenet_data.py converters)",
  });
}
