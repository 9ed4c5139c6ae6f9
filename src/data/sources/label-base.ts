/**
 * Whether a sharded split's stored labels start at 0 or 1 (`data.label_base: auto`), from
 * evidence, never from a key name alone: `image/class/label` is 0-based in TF-slim's
 * converters and 1-based in the TPU `imagenet_to_gcs.py` and Inception
 * `build_imagenet_data.py` ones (0 = background there). Before training, the first samples
 * of the shards (spread over them, at most SCAN_BUDGET) are read for their stored labels:
 * a stored 0 means 0-based, a stored num_classes means 1-based; a key set whose spec fixes
 * the base (tfds' ClassLabel: 0-based) decides by itself; anything else is an error naming
 * `data.label_base`. Labels read later that contradict the decision are out of range, an
 * error: a label is never silently shifted.
 */
import { DataError, type Skip, SkipLog } from '../errors.js';
import type { LabelDecision, SampleRef } from './source.js';

/** Samples read at most to decide; and at least, when the split has them (for the range reported). */
const SCAN_BUDGET = 10_000;
const SCAN_MIN = 256;
/** Records in a row with no supported key set before the format is called unsupported. */
const UNSUPPORTED_LIMIT = 100;

/** A unit as a shard format reads it: `label` is the stored label, before the base. */
export interface StoredRef extends SampleRef {
  /** The key set that held the image and label (`image/encoded + image/class/label`, `.cls`). */
  keys?: string;
  /** Set when the unit has none of the key sets the format reads: what it has instead. */
  unsupported?: string;
  /** Where the label is, when not at `where` (a WebDataset sample's label member). */
  labelWhere?: string;
}

export interface LabelFormat {
  name: string;
  read(file: string, skips: SkipLog): AsyncIterable<StoredRef>;
  /** The base a key set's own spec fixes (tfds: 0), if it does. */
  specBase(keys: string): 0 | 1 | undefined;
  /** How to settle an ambiguous case, for the error message. */
  baseHint: string;
}

interface Evidence {
  keySets: Record<string, number>;
  labels: Set<number>;
  min: number;
  max: number;
  samples: number;
  units: number;
  /** The first unusable unit (a record or sample the scan could not take a label from). */
  unusable?: Skip;
  unsupported: number;
  firstUnsupported?: { where: string; what: string };
}

const settledBy = (ev: Evidence, numClasses: number, format: LabelFormat) =>
  ev.min === 0 ||
  ev.max >= numClasses ||
  ev.min < 0 ||
  (ev.samples > 0 && Object.keys(ev.keySets).every((k) => format.specBase(k) !== undefined));

/**
 * Stored labels of the first samples of `shards` (each split's shards in order, the same
 * number from each shard), until the base is settled and SCAN_MIN were read, or
 * SCAN_BUDGET were read.
 */
async function scan(splits: string[][], format: LabelFormat, numClasses: number): Promise<Evidence> {
  const ev: Evidence = {
    keySets: {},
    labels: new Set(),
    min: Number.POSITIVE_INFINITY,
    max: Number.NEGATIVE_INFINITY,
    samples: 0,
    units: 0,
    unsupported: 0,
  };
  const scratch = new SkipLog(); // what the scan meets is counted when training reads it
  const enough = () => ev.samples >= SCAN_MIN && settledBy(ev, numClasses, format);
  for (const shards of splits) {
    const perShard = Math.max(1, Math.ceil(SCAN_BUDGET / shards.length));
    for (const shard of shards) {
      let taken = 0;
      for await (const ref of format.read(shard, scratch)) {
        ev.units++;
        if (ref.unsupported) {
          ev.unsupported++;
          ev.firstUnsupported ??= { where: ref.where, what: ref.unsupported };
        } else if (ref.skip) ev.unusable ??= ref.skip;
        else {
          const keys = ref.keys ?? '?';
          ev.keySets[keys] = (ev.keySets[keys] ?? 0) + 1;
          ev.labels.add(ref.label);
          ev.min = Math.min(ev.min, ref.label);
          ev.max = Math.max(ev.max, ref.label);
          ev.samples++;
          taken++;
        }
        if (ev.samples === 0 && ev.unsupported >= UNSUPPORTED_LIMIT) return ev;
        if (enough() || taken >= perShard || ev.samples >= SCAN_BUDGET) break;
      }
      if (enough() || ev.samples >= SCAN_BUDGET) return ev;
    }
  }
  ev.unusable ??= scratch.first;
  return ev;
}

const keyList = (keySets: Record<string, number>) => Object.keys(keySets).join(', ');

/** The base for `auto`, from the evidence; a DataError when it does not settle it. */
function decide(
  ev: Evidence,
  numClasses: number,
  format: LabelFormat,
  what: string,
  classes: string,
): { base: 0 | 1; why: string } {
  const read = `the ${ev.samples} samples read (keys ${keyList(ev.keySets)}) hold stored labels ${ev.min}..${ev.max}`;
  if (ev.min < 0) throw new DataError(`${what}: ${read}: a negative label is no class`);
  const specs = new Set(Object.keys(ev.keySets).map((k) => format.specBase(k)));
  const spec = specs.size === 1 ? [...specs][0] : undefined;
  if (spec !== undefined)
    return { base: spec, why: `auto: ${keyList(ev.keySets)} labels are ${spec}-based by their spec` };
  if (ev.max > numClasses || (ev.min === 0 && ev.max === numClasses)) {
    throw new DataError(
      `${what}: ${read}: outside 0..${numClasses - 1} (0-based) and 1..${numClasses} (1-based) alike, for ${classes}: check data.num_classes`,
    );
  }
  if (ev.min === 0) return { base: 0, why: 'auto: a stored 0 means 0-based' };
  if (ev.max === numClasses)
    return { base: 1, why: `auto: a stored ${numClasses} (= num_classes) means 1-based` };
  throw new DataError(
    `data.label_base: cannot tell whether the labels of ${what} start at 0 or 1: ${read}, and for ${classes} both fit (0-based: 0..${numClasses - 1}, 1-based: 1..${numClasses}); ${format.baseHint}`,
  );
}

/**
 * Decide the base of a sharded source: the config's, or (auto) from the stored labels of
 * `splits` (shard lists, the split being opened first). `what` names the data in messages.
 */
export async function decideLabelBase(
  configured: 'auto' | 0 | 1,
  splits: string[][],
  format: LabelFormat,
  { numClasses, assumed }: { numClasses: number; assumed: boolean },
  what: string,
): Promise<LabelDecision> {
  if (configured !== 'auto') {
    return { base: configured, why: 'data.label_base', keySets: {}, samples: 0, distinct: 0, stored: null };
  }
  const ev = await scan(splits, format, numClasses);
  if (ev.samples === 0) {
    if (ev.firstUnsupported) {
      const u = ev.firstUnsupported;
      throw new DataError(
        `${u.where}: ${u.what} (none of the first ${ev.units} records has a supported key set)`,
      );
    }
    if (ev.unusable) {
      const u = ev.unusable;
      throw new DataError(
        `${what}: none of the first ${ev.units} samples has a usable label; the first: ${u.where}: ${u.detail ?? u.reason}`,
      );
    }
    return { base: 0, why: 'auto: no sample to read', keySets: {}, samples: 0, distinct: 0, stored: null };
  }
  return {
    ...decide(
      ev,
      numClasses,
      format,
      what,
      `num_classes ${numClasses}${assumed ? ' (data.num_classes not set: assumed)' : ''}`,
    ),
    keySets: ev.keySets,
    samples: ev.samples,
    distinct: ev.labels.size,
    stored: [ev.min, ev.max],
  };
}

/** One line for logs and `data inspect`: base, why, keys, the stored range read. */
export function describeDecision(d: LabelDecision): string {
  const keys = Object.keys(d.keySets).length ? `; keys ${keyList(d.keySets)}` : '';
  const range = d.stored
    ? `; stored labels ${d.stored[0]}..${d.stored[1]} (${d.distinct} distinct) in the ${d.samples} samples read`
    : '';
  return `${d.base}-based (${d.why})${keys}${range}`;
}
