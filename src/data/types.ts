/**
 * The contract between data loading and training. Everything under src/data/
 * produces batches in this shape; the trainer consumes nothing else.
 */

/** One mini-batch: raw uint8 pixels, NHWC, plus integer labels in [0, numClasses). */
export interface Batch {
  /** n*height*width*channels bytes, NHWC, row-major, not normalised. */
  x: Uint8Array;
  y: Int32Array;
  n: number;
  height: number;
  width: number;
  channels: number;
  /**
   * Position of this batch within its epoch (0-based); resume with `startBatch = index + 1`.
   * Train yields every position (batchesPerEpoch batches; `n` < batch size when some samples
   * were unreadable). Val may leave out a position whose samples were all unreadable.
   */
  index?: number;
}

export interface DatasetInfo {
  /** e.g. 'mnist', 'cifar10', 'imagefolder', 'webdataset', 'tfrecord', 'cache'. */
  source: string;
  numClasses: number;
  classNames: string[];
  /** Shape of every batch's images after transforms. */
  height: number;
  width: number;
  channels: number;
  /** Per-channel normalisation applied by the trainer: (x/255 - mean) / std. */
  mean: number[];
  std: number[];
  trainSize: number;
  valSize: number;
}

/** Counters of bad samples met so far (skipped, never relabelled). */
export interface DataStats {
  /** Distinct bad samples met so far (a sample that is bad every epoch counts once). */
  skipped: number;
  byReason: Record<string, number>;
  /**
   * Problems that dropped no sample, by reason (`decode_warning`: images kept though the
   * decoder warned; `empty_class`: class folders without images); absent when none.
   */
  notes?: Record<string, number>;
}

export type Split = 'train' | 'val';

export interface BatchLoader {
  readonly info: DatasetInfo;
  /** Number of batches one epoch of `split` yields (train drops the last partial batch; val keeps it). */
  batchesPerEpoch(split: Split): number;
  /**
   * The batches of one epoch. The order is a pure function of (seed, epoch, split):
   * two loaders built from the same config yield identical batches, and starting at
   * `startBatch = k` yields exactly the tail from batch k on (used by exact resume).
   */
  epochBatches(split: Split, epoch: number, startBatch?: number): AsyncIterable<Batch>;
  stats(): DataStats;
  close(): Promise<void>;
}
