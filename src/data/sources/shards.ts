/**
 * What webdataset and tfrecord sources share: brace-expanded shard lists, counting
 * samples per shard at start-up, the label base (./label-base.ts) and label checks, and
 * the DataSource around them.
 */
import { existsSync } from 'node:fs';
import { sourceSplitOf } from '../config.js';
import { DataError, type SkipLog } from '../errors.js';
import { expandBraces } from '../formats/braces.js';
import { decideLabelBase, describeDecision, type LabelFormat } from './label-base.js';
import type { DataSource, LabelDecision, SampleRef, SourceContext, StreamSplit } from './source.js';
import { labelRangeMessage, photoSource } from './source.js';

export interface ShardFormat extends LabelFormat {
  name: 'webdataset' | 'tfrecord';
  /** Stream units in one shard, from headers only. */
  count(file: string): Promise<number>;
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
  const patterns = { train: cfg.path, val: cfg.val_path };
  const keyOf = (name: 'train' | 'val') => (name === 'train' ? 'data.path' : 'data.val_path');
  let decided: LabelDecision | null = null;
  let deciding: Promise<LabelDecision> | undefined;
  /** The label base, decided once for the source: the split opened first is read first, then the other's shards if they exist. */
  const decide = (first: 'train' | 'val', shards: string[]) => {
    deciding ??= (async () => {
      const other = first === 'train' ? 'val' : 'train';
      const otherPattern = patterns[other] !== patterns[first] ? patterns[other] : null;
      const more = otherPattern ? tryShards(otherPattern) : [];
      const what = [patterns[first], otherPattern].filter(Boolean).join(' and ');
      const classes = { numClasses, assumed: cfg.num_classes === null };
      decided = await decideLabelBase(cfg.label_base, [shards, more], format, classes, what);
      logDecision(ctx, format.name, decided, cfg.num_classes);
      return decided;
    })();
    return deciding;
  };
  const load = async (name: 'train' | 'val'): Promise<StreamSplit> => {
    const pattern = patterns[name];
    const key = keyOf(name);
    if (!pattern) throw new DataError(`${key}: required for the ${name} split of source ${format.name}`);
    const shards = shardList(pattern, key);
    const { base } = await decide(name, shards);
    const reader = (['train', 'val'] as const).find((s) => sourceSplitOf(s, cfg) === name);
    const size = (reader && cfg[reader].num_samples) || (await countAll(shards, format.count));
    const read = (order: string[]) =>
      readAll(order, format, ctx.skips, (stored, at) => checkLabel(stored, base, numClasses, at));
    return { kind: 'stream', size, shards, read };
  };
  const source = photoSource(
    format.name,
    Array.from({ length: numClasses }, (_, i) => String(i)),
    load,
  );
  return { ...source, labelBase: () => decided };
}

/** The shards of a pattern, or none when some are missing (the other split's, read for evidence only). */
function tryShards(pattern: string): string[] {
  try {
    return shardList(pattern);
  } catch {
    return [];
  }
}

/** Into the run log: how the labels are read; and a warning when num_classes was assumed and looks wrong. */
function logDecision(ctx: SourceContext, name: string, d: LabelDecision, configured: number | null): void {
  ctx.logger?.info(
    { labelBase: d.base, keys: Object.keys(d.keySets), stored: d.stored },
    `data: ${name} labels: ${describeDecision(d)}`,
  );
  if (configured === null && d.stored && d.stored[1] - d.base < 999) {
    ctx.logger?.warn(
      { stored: d.stored, distinct: d.distinct },
      `data: ${name}: data.num_classes not set, so ImageNet's 1000 is assumed, but the ${d.samples} samples read hold only ${d.distinct} distinct labels (${d.stored[0]}..${d.stored[1]} stored): set data.num_classes if the data has fewer classes`,
    );
  }
}

/** The units of `shards` in order, stored labels made 0-based by `label` (skipped units as they are). */
async function* readAll(
  shards: string[],
  format: ShardFormat,
  skips: SkipLog,
  label: (stored: number, at: string) => number,
): AsyncGenerator<SampleRef> {
  for (const shard of shards) {
    for await (const { keys, unsupported, labelWhere, ...ref } of format.read(shard, skips)) {
      yield ref.skip ? ref : { ...ref, label: label(ref.label, labelWhere ?? ref.where) };
    }
  }
}
