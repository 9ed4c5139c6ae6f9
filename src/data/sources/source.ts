/**
 * The one interface every data source implements. A source knows its files, labels and
 * class names; the loader (../loader.ts) owns order, subsets, decoding and batching.
 */
import type { DataConfig } from '../config.js';
import type { DataLogger, Skip, SkipLog } from '../errors.js';

export interface RawShape {
  width: number;
  height: number;
  channels: number;
}

/** What the labels read say, and the base decided from them. */
export interface LabelDecision {
  base: 0 | 1;
  /** Why (`auto: a stored 0`, `data.label_base`). */
  why: string;
  /** Key sets of the samples read, with counts. */
  keySets: Record<string, number>;
  /** Stored labels read (before the base): count, distinct values, range; null range when none. */
  samples: number;
  distinct: number;
  stored: [number, number] | null;
}

/**
 * One sample as the decode stage needs it: plain data, so it can be posted to a worker.
 * The pixels are in `bytes` or in `file` (whole file, or `length` bytes at `offset`).
 */
export interface SampleRef {
  label: number;
  /** Where the sample is, for logs: `file`, `file:member`, `file @ byte N`, `file [record i]`. */
  where: string;
  bytes?: Uint8Array;
  file?: string;
  offset?: number;
  length?: number;
  /** Raw HWC uint8 pixels of this shape (no decoding); absent for encoded images (JPEG, PNG...). */
  raw?: RawShape;
  /** Known bad before decoding; kept in the stream so that batch boundaries never move. */
  skip?: Skip;
}

/** A split whose samples can be fetched by index (order chosen freely by the loader). */
export interface IndexedSplit {
  kind: 'indexed';
  size: number;
  ref(i: number): SampleRef;
}

/** A split read as a stream of shards (tar, TFRecord): the loader chooses shard order and shuffles in a buffer. */
export interface StreamSplit {
  kind: 'stream';
  /** Stream units per full pass over all shards. */
  size: number;
  shards: string[];
  /** The samples of `shards`, in this order. */
  read(shards: string[]): AsyncIterable<SampleRef>;
}

export type SourceSplit = IndexedSplit | StreamSplit;

export type AugmentFamily = 'imagenet' | 'cifar' | 'none';

export interface DataSource {
  /** The config's `source` name, or for a cache the name of the source it was made from. */
  readonly name: string;
  readonly classNames: string[];
  readonly mean: number[];
  readonly std: number[];
  /** Channels of the images it delivers (1 for MNIST, else 3). */
  readonly channels: 1 | 3;
  /** Side of its images when they all have one size (MNIST 28, CIFAR 32, a cache), else null. */
  readonly nativeSize: number | null;
  /** What `augment: auto` means for it. */
  readonly defaultAugment: AugmentFamily;
  /** Eval geometry: `center` = resize shorter side + center crop (photos); `stretch` = resize to size (fixed-size sets). */
  readonly evalGeometry: 'center' | 'stretch';
  /** `image_size` when the config leaves it unset; a cache also fixes `crop_pct` to the one it was made with. */
  readonly defaults: { imageSize: number; cropPct?: number };
  /** One of its own splits; loaded on first use (missing files are an error only then). */
  split(name: 'train' | 'val'): Promise<SourceSplit>;
  /** Sharded sources: how the stored labels are read (base, why, keys, range), once a split is open. */
  labelBase?(): LabelDecision | null;
  close(): Promise<void>;
}

export interface SourceContext {
  /** The data config, paths already absolute. */
  cfg: DataConfig;
  skips: SkipLog;
  logger?: DataLogger;
}

/** An error for a label outside [0, numClasses): never clamped or remapped. */
export function labelRangeMessage(label: number, numClasses: number, at: string): string {
  return `${at}: label ${label} is out of range: expected 0..${numClasses - 1} (${numClasses} classes)`;
}

export const IMAGENET_MEAN = [0.485, 0.456, 0.406];
export const IMAGENET_STD = [0.229, 0.224, 0.225];

/**
 * A source of ImageNet-style photos (imagefolder, webdataset, tfrecord): RGB, varied
 * sizes, ImageNet normalisation and augmentation; each split loaded once, on first use.
 */
export function photoSource<S extends SourceSplit>(
  name: string,
  classNames: string[],
  load: (split: 'train' | 'val') => Promise<S>,
): DataSource {
  const splits = new Map<string, Promise<S>>();
  return {
    name,
    classNames,
    mean: IMAGENET_MEAN,
    std: IMAGENET_STD,
    channels: 3,
    nativeSize: null,
    defaultAugment: 'imagenet',
    defaults: { imageSize: 224 },
    evalGeometry: 'center',
    split(split) {
      if (!splits.has(split)) splits.set(split, load(split));
      return splits.get(split)!;
    },
    async close() {},
  };
}
