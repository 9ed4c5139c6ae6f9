/**
 * The BatchLoader: sample order, subsets, shuffling, batching and prefetch, for any
 * DataSource. Order is a pure function of (seed, split, epoch):
 * - indexed sources: a seeded permutation of the split (train), natural order (val);
 * - streamed sources: a seeded shard order, then a seeded shuffle buffer (train).
 * Batch k is always stream units [k*B, (k+1)*B); a unit that fails to decode makes its
 * batch shorter instead of pulling in a later sample, so resuming at k is exact.
 */
import { Rng, seedFrom } from '../util/rng.js';
import type { DataSplitConfig } from './config.js';
import { DataError, type SkipLog } from './errors.js';
import type { Executor } from './executor.js';
import type { DataSource, SampleRef, SourceSplit } from './sources/source.js';
import type { BatchJob, BatchOut, TransformSpec } from './transforms.js';
import type { Batch, BatchLoader, DataStats, DatasetInfo, Split } from './types.js';

/** One run split: which source split, which of its samples, and how they are transformed. */
export interface SplitPlan {
  split: SourceSplit;
  spec: TransformSpec;
  /** Indexed sources: the samples used, ascending (null = all). */
  subset: Uint32Array | null;
  /** Samples per epoch. */
  size: number;
  shuffle: boolean;
  dropLast: boolean;
}

/** The plans of the splits a loader was built for (both, unless bench or prepare asked for one). */
export type Plans = Partial<Record<Split, SplitPlan>>;

export interface LoaderOptions {
  seed: number;
  batchSize: number;
  prefetch: number;
  shuffleBuffer: number;
  executor: Executor;
  skips: SkipLog;
}

type Unit = SampleRef & { index: number };

/**
 * The samples a split config selects: `range` (a slice in natural order), then `limit`
 * (a fixed random subset, seeded by the range only so every run seed sees the same one).
 */
export function planSubset(
  split: SourceSplit,
  cfg: DataSplitConfig,
  what: string,
): { subset: Uint32Array | null; size: number } {
  if (split.kind === 'stream') {
    if (cfg.range) throw new DataError(`${what}.range: not supported for streamed shards; use ${what}.limit`);
    return { subset: null, size: Math.min(split.size, cfg.limit ?? Number.POSITIVE_INFINITY) };
  }
  const [start, end] = cfg.range ?? [0, split.size];
  if (end > split.size) {
    throw new DataError(`${what}.range: [${start}, ${end}] goes past the split's ${split.size} samples`);
  }
  if (!cfg.range && (cfg.limit === null || cfg.limit >= split.size))
    return { subset: null, size: split.size };
  let ids = Uint32Array.from({ length: end - start }, (_, i) => start + i);
  if (cfg.limit !== null && cfg.limit < ids.length) {
    shuffleInPlace(ids, new Rng(seedFrom('subset', start, end)));
    ids = ids.slice(0, cfg.limit).sort();
  }
  return { subset: ids, size: ids.length };
}

function shuffleInPlace(a: Uint32Array | unknown[], rng: Rng): void {
  for (let i = a.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
}

/** A deterministic shuffle buffer: fill, then emit a random slot and refill it; drain shuffled. */
async function* shuffled<T>(src: AsyncIterable<T>, capacity: number, rng: Rng): AsyncGenerator<T> {
  const buf: T[] = [];
  for await (const item of src) {
    if (buf.length < capacity) {
      buf.push(item);
      continue;
    }
    const j = rng.int(capacity);
    const out = buf[j];
    buf[j] = item;
    yield out;
  }
  shuffleInPlace(buf, rng);
  yield* buf;
}

export class Loader implements BatchLoader {
  constructor(
    readonly info: DatasetInfo,
    private readonly source: DataSource,
    private readonly plans: Plans,
    private readonly opts: LoaderOptions,
  ) {}

  private plan(split: Split): SplitPlan {
    const plan = this.plans[split];
    if (!plan) throw new DataError(`the ${split} split was not opened by this loader`);
    return plan;
  }

  /** Decode threads in use (0 = main thread). */
  get threads(): number {
    return this.opts.executor.threads;
  }

  batchesPerEpoch(split: Split): number {
    const { size, dropLast } = this.plan(split);
    const b = this.opts.batchSize;
    return dropLast ? Math.floor(size / b) : Math.ceil(size / b);
  }

  /** Indexed splits: the epoch's sample order (positions into the split). */
  private order(split: Split, epoch: number): Uint32Array {
    const plan = this.plan(split);
    const order = plan.subset
      ? plan.subset.slice()
      : Uint32Array.from({ length: plan.split.size }, (_, i) => i);
    if (plan.shuffle) shuffleInPlace(order, new Rng(seedFrom(this.opts.seed, 'order', split, epoch)));
    return order;
  }

  /**
   * A train batch whose samples were all unreadable. Indexed splits: one sample drawn at a
   * seeded random position of the epoch (a real image with its own label, the same on
   * every run and resume), so the epoch keeps its batch count. Streams can't seek: the
   * batch stays empty and is not yielded; the next batch's `index` shows the gap, which
   * the runner steps over (batch k is always stream units [kB, (k+1)B), so a resume
   * meets the same gap). An indexed split with nothing readable in 16 draws is an error.
   */
  private async replacement(split: Split, epoch: number, index: number, job: BatchJob): Promise<BatchOut> {
    const plan = this.plan(split);
    const s = plan.split;
    if (s.kind === 'stream')
      return { x: new Uint8Array(0), y: new Int32Array(0), n: 0, skips: [], notes: [] };
    if (s.kind === 'indexed') {
      const order = this.order(split, epoch);
      for (let attempt = 0; attempt < 16; attempt++) {
        const pos = new Rng(seedFrom(this.opts.seed, 'refill', split, epoch, index, attempt)).int(
          order.length,
        );
        const out = await this.opts.executor.run({ ...job, samples: [{ ...s.ref(order[pos]), index: pos }] });
        this.record(out);
        if (out.n > 0) return out;
      }
    }
    throw new DataError(
      `${split} batch ${index} of epoch ${epoch}: none of its ${job.samples.length} samples could be read (see the skipped-sample warnings)`,
    );
  }

  /**
   * The epoch's units from batch `first` on, a batch at a time, each unit tagged with its
   * position in the epoch. Train keeps only whole batches.
   */
  private async *batchUnits(split: Split, epoch: number, first: number): AsyncGenerator<Unit[]> {
    const plan = this.plan(split);
    const { seed, batchSize: b } = this.opts;
    const total = plan.dropLast ? this.batchesPerEpoch(split) * b : plan.size;
    if (plan.split.kind === 'indexed') {
      const s = plan.split;
      const order = this.order(split, epoch);
      for (let start = first * b; start < total; start += b) {
        const end = Math.min(start + b, total);
        yield Array.from({ length: end - start }, (_, k) => ({
          ...s.ref(order[start + k]),
          index: start + k,
        }));
      }
      return;
    }
    const s = plan.split;
    const shards = s.shards.slice();
    if (plan.shuffle) shuffleInPlace(shards, new Rng(seedFrom(seed, 'shards', split, epoch)));
    let stream: AsyncIterable<SampleRef> = s.read(shards);
    if (plan.shuffle && this.opts.shuffleBuffer > 1) {
      stream = shuffled(stream, this.opts.shuffleBuffer, new Rng(seedFrom(seed, 'buffer', split, epoch)));
    }
    // Units before batch `first` are read (the shuffle buffer needs them) but never decoded.
    let i = 0;
    let batch: Unit[] = [];
    for await (const ref of stream) {
      if (i >= total) break;
      if (i >= first * b) batch.push({ ...ref, index: i });
      i++;
      if (batch.length === b) {
        yield batch;
        batch = [];
      }
    }
    // A stream that ended early (damaged shard) leaves a partial batch: val keeps it, train drops it.
    if (batch.length > 0 && !plan.dropLast) yield batch;
  }

  async *epochBatches(split: Split, epoch: number, startBatch = 0): AsyncGenerator<Batch> {
    const plan = this.plan(split);
    const { executor, prefetch } = this.opts;
    if (!Number.isInteger(startBatch) || startBatch < 0)
      throw new RangeError('startBatch must be an integer >= 0');
    if (startBatch >= this.batchesPerEpoch(split)) return;
    const seed = seedFrom(this.opts.seed, 'augment', split, epoch);
    const units = this.batchUnits(split, epoch, startBatch);
    const queue: { index: number; job: BatchJob; out: Promise<BatchOut> }[] = [];
    let next = startBatch;
    let exhausted = false;
    const fill = async () => {
      while (!exhausted && queue.length < prefetch) {
        const r = await units.next();
        if (r.done) {
          exhausted = true;
          break;
        }
        const job: BatchJob = { spec: plan.spec, seed, samples: r.value };
        const out = executor.run(job);
        out.catch(() => {}); // awaited in order below; don't report it as unhandled meanwhile
        queue.push({ index: next++, job, out });
      }
    };
    const { size, channels } = plan.spec;
    try {
      for (;;) {
        await fill();
        const head = queue.shift();
        if (!head) return;
        let out = await head.out;
        this.record(out);
        if (out.n === 0 && plan.dropLast) out = await this.replacement(split, epoch, head.index, head.job);
        if (out.n === 0) continue; // nothing readable in this batch (val, or a train stream)
        yield { x: out.x, y: out.y, n: out.n, height: size, width: size, channels, index: head.index };
      }
    } finally {
      await units.return(undefined);
    }
  }

  /** Count and log a decoded batch's skipped samples and notes (each place once). */
  private record(out: BatchOut): void {
    for (const skip of out.skips) this.opts.skips.add(skip);
    for (const note of out.notes) this.opts.skips.note(note);
  }

  stats(): DataStats {
    return this.opts.skips.stats();
  }

  async close(): Promise<void> {
    await this.opts.executor.close();
    await this.source.close();
  }
}
