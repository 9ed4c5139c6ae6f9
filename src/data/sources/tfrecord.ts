/**
 * TFRecord shards of `tf.train.Example`s (tfds `imagenet2012` or the TPU converter's
 * keys), plain or GZIP/ZLIB-compressed. Every record is one stream unit; unusable records
 * stay in the stream marked `skip`, so counting by headers and reading agree.
 */
import { errorMessage, type Skip, where } from '../errors.js';
import {
  decodeImageExample,
  type FeatureShape,
  type ImageExample,
  type ListKind,
} from '../formats/example.js';
import { countTfRecords, readTfRecords } from '../formats/tfrecord.js';
import { checkLabel, openShardSource } from './shards.js';
import type { DataSource, SampleRef, SourceContext } from './source.js';

const LIST_NAMES: Record<ListKind, string> = {
  bytesList: 'a bytes_list',
  floatList: 'a float_list',
  int64List: 'an int64_list',
};

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
function missingSkip(ex: ImageExample, at: string): Skip {
  const [imageKey, labelKey] =
    ex.keys === 'tpu' ? ['image/encoded', 'image/class/label'] : ['image', 'label'];
  const problems = [
    !ex.image && describeFeature(imageKey, ex.shapes.image, 'bytesList'),
    ex.label === undefined && describeFeature(labelKey, ex.shapes.label, 'int64List'),
  ].filter(Boolean);
  // A label present with the wrong type is a bad label rather than a missing one.
  const reason = ex.image ? (ex.shapes.label ? 'bad_label' : 'missing_label') : 'missing_image';
  const keySet = ex.keys === 'tpu' ? 'TPU converter keys' : 'tfds keys';
  return { reason, where: at, detail: `${problems.join('; ')} (${keySet})` };
}

async function* readShard(file: string, ctx: SourceContext, numClasses: number): AsyncGenerator<SampleRef> {
  for await (const rec of readTfRecords(file, { verifyCrc: ctx.cfg.verify_crc })) {
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
    if (!ex.image || ex.label === undefined) {
      yield { label: -1, where: at, skip: missingSkip(ex, at) };
      continue;
    }
    const base = ctx.cfg.label_base === 'auto' ? (ex.keys === 'tpu' ? 1 : 0) : ctx.cfg.label_base;
    yield { label: checkLabel(ex.label, base, numClasses, at), where: at, bytes: ex.image };
  }
}

export function openTfRecord(ctx: SourceContext): DataSource {
  const numClasses = ctx.cfg.num_classes ?? 1000;
  return openShardSource(ctx, {
    name: 'tfrecord',
    count: (file) => countTfRecords(file, ctx.cfg.verify_crc),
    read: (file) => readShard(file, ctx, numClasses),
  });
}
