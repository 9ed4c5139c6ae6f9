/**
 * What webdataset and tfrecord sources share: brace-expanded shard lists, counting
 * samples per shard at start-up, label checks, and the DataSource around them.
 */
import { existsSync } from 'node:fs';
import { sourceSplitOf } from '../config.js';
import { DataError } from '../errors.js';
import { expandBraces } from '../formats/braces.js';
import type { DataSource, SampleRef, SourceContext, StreamSplit } from './source.js';
import { labelRangeMessage, photoSource } from './source.js';

export interface ShardFormat {
  name: 'webdataset' | 'tfrecord';
  /** Stream units in one shard, from headers only. */
  count(file: string): Promise<number>;
  /** The samples of one shard, in order. */
  read(file: string): AsyncIterable<SampleRef>;
}

/**
 * Shards of a pattern, each checked to exist (a missing shard is an error naming it and
 * how many are missing). `key` is the config key that gave the pattern, for the message.
 */
export function shardList(pattern: string, key?: string): string[] {
  const shards = expandBraces(pattern);
  const missing = shards.filter((s) => !existsSync(s));
  if (missing.length) {
    const more = missing.length > 1 ? ` (and ${missing.length - 1} more of ${shards.length})` : '';
    throw new DataError(`${key ? `${key}: ` : ''}shard ${missing[0]} not found${more} (pattern ${pattern})`);
  }
  return shards;
}

async function countAll(shards: string[], count: (f: string) => Promise<number>): Promise<number> {
  let total = 0;
  let next = 0;
  const lanes = Array.from({ length: Math.min(8, shards.length) }, async () => {
    while (next < shards.length) {
      const n = await count(shards[next++]);
      total += n; // not `total += await ...`: that would read `total` before the await
    }
  });
  await Promise.all(lanes);
  return total;
}

/** A stored label made 0-based and range-checked: out of range is an error naming the sample. */
export function checkLabel(stored: number, base: 0 | 1, numClasses: number, at: string): number {
  const label = stored - base;
  if (!Number.isInteger(label) || label < 0 || label >= numClasses) {
    const note = base === 1 ? ` (stored ${stored}, 1-based)` : '';
    throw new DataError(`${labelRangeMessage(label, numClasses, at)}${note}`);
  }
  return label;
}

export function openShardSource(ctx: SourceContext, format: ShardFormat): DataSource {
  const { cfg } = ctx;
  if (!cfg.path) throw new DataError(`data.path: required for source ${format.name} (a train shard pattern)`);
  const numClasses = cfg.num_classes ?? 1000;
  if (cfg.num_classes === null) {
    ctx.logger?.info(
      { numClasses },
      `data: ${format.name}: data.num_classes not set, assuming ImageNet's 1000`,
    );
  }
  const load = async (name: 'train' | 'val'): Promise<StreamSplit> => {
    const pattern = name === 'train' ? cfg.path : cfg.val_path;
    const key = name === 'train' ? 'data.path' : 'data.val_path';
    if (!pattern) throw new DataError(`${key}: required for the ${name} split of source ${format.name}`);
    const shards = shardList(pattern, key);
    const reader = (['train', 'val'] as const).find((s) => sourceSplitOf(s, cfg) === name);
    const size = (reader && cfg[reader].num_samples) || (await countAll(shards, format.count));
    return { kind: 'stream', size, shards, read: (order) => readAll(order, format) };
  };
  return photoSource(
    format.name,
    Array.from({ length: numClasses }, (_, i) => String(i)),
    load,
  );
}

async function* readAll(shards: string[], format: ShardFormat): AsyncGenerator<SampleRef> {
  for (const shard of shards) yield* format.read(shard);
}
