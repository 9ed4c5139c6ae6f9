/**
 * TFRecord shards of `tf.train.Example`s (tfds `imagenet2012` or the TPU converter's
 * keys). Every record is one stream unit; unusable records stay in the stream marked
 * `skip`, so counting by headers and reading agree.
 */
import { errorMessage, where } from '../errors.js';
import { decodeImageExample } from '../formats/example.js';
import { countTfRecords, readTfRecords } from '../formats/tfrecord.js';
import { checkLabel, openShardSource } from './shards.js';
import type { DataSource, SampleRef, SourceContext } from './source.js';

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
    const keys = ex.keys === 'tpu' ? "'image/encoded' / 'image/class/label'" : "'image' / 'label'";
    if (!ex.image || ex.label === undefined) {
      const reason = ex.image ? 'missing_label' : 'missing_image';
      yield { label: -1, where: at, skip: { reason, where: at, detail: `record lacks ${keys}` } };
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
