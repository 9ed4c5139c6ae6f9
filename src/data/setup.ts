/**
 * From a resolved data config to a Loader: pick the source (or its prepared cache),
 * the transforms per split, the subsets, and where decoding runs. Shared by
 * createLoader, `data prepare` and `data bench`.
 */
import { availableParallelism } from 'node:os';
import { type DataConfig, sourceSplitOf } from './config.js';
import { DataError, type DataLogger, SkipLog } from './errors.js';
import { createExecutor } from './executor.js';
import { Loader, type Plans, planSubset } from './loader.js';
import { cacheFingerprint, readCacheMeta } from './sources/cache.js';
import { openSource } from './sources/index.js';
import type { DataSource, SourceContext } from './sources/source.js';
import type { TransformSpec } from './transforms.js';
import type { DatasetInfo, Split } from './types.js';

export const SPLITS: readonly Split[] = ['train', 'val'];

/** Image side the model sees. */
export function imageSizeOf(cfg: DataConfig, source: DataSource): number {
  return cfg.image_size ?? source.defaults.imageSize;
}

/**
 * Open `cfg.source`, or the prepared cache at `cfg.cache` when it was made from this very
 * config (same files, image size, subsets); otherwise say why not and read the source.
 */
export async function openConfigured(
  ctx: SourceContext,
): Promise<{ source: DataSource; ctx: SourceContext }> {
  const { cfg, logger } = ctx;
  if (cfg.cache && cfg.source !== 'cache') {
    const meta = readCacheMeta(cfg.cache);
    const size = cfg.image_size ?? meta?.imageSize ?? 0;
    if (meta && meta.fingerprint === cacheFingerprint(cfg, size)) {
      logger?.info({ cache: cfg.cache }, 'data: reading the prepared cache');
      // The cache holds exactly the run's train and val selections.
      const all = { from: null, range: null, limit: null, num_samples: null };
      const cacheCfg: DataConfig = { ...cfg, source: 'cache', path: cfg.cache, train: all, val: all };
      const cacheCtx = { ...ctx, cfg: cacheCfg };
      return { source: await openSource(cacheCtx), ctx: cacheCtx };
    }
    const why = meta ? 'was prepared from a different data config' : 'has not been prepared';
    logger?.warn(
      { cache: cfg.cache },
      `data: cache ${why}; reading the source (run: wtrain data prepare <config>)`,
    );
  }
  return { source: await openSource(ctx), ctx };
}

/** The transform of a split under the config's augmentation. */
export function transformOf(split: Split, cfg: DataConfig, source: DataSource): TransformSpec {
  const augment = cfg.augment === 'auto' ? source.defaultAugment : cfg.augment;
  const base: TransformSpec = {
    kind: source.evalGeometry,
    size: imageSizeOf(cfg, source),
    channels: source.channels,
    flip: false,
    cropPct: source.defaults.cropPct ?? cfg.crop_pct,
    scale: cfg.rrc_scale,
    ratio: cfg.rrc_ratio,
    pad: 4,
    failOn: cfg.fail_on,
  };
  if (split === 'val' || augment === 'none') return base;
  return { ...base, kind: augment === 'imagenet' ? 'rrc' : 'cifar', flip: true };
}

/**
 * The plans of `splits` (both by default); only those splits are opened, so one split can be
 * read without the other's files (`data bench --split train` with no val shards). Warns when
 * train and val read overlapping samples of one source split.
 */
export async function makePlans(
  source: DataSource,
  cfg: DataConfig,
  spec: (split: Split) => TransformSpec,
  training: boolean,
  logger?: DataLogger,
  splits: readonly Split[] = SPLITS,
): Promise<Plans> {
  const plans: Plans = {};
  for (const split of splits) {
    const s = await source.split(sourceSplitOf(split, cfg));
    const { subset, size } = planSubset(s, cfg[split], `data.${split}`);
    const train = training && split === 'train';
    plans[split] = { split: s, spec: spec(split), subset, size, shuffle: train, dropLast: train };
  }
  if (plans.train && plans.val && sourceSplitOf('train', cfg) === sourceSplitOf('val', cfg)) {
    const [a, b] = [cfg.train.range, cfg.val.range];
    if (!a || !b || (a[0] < b[1] && b[0] < a[1])) {
      logger?.warn(
        { from: sourceSplitOf('train', cfg) },
        'data: train and val read overlapping samples of one split',
      );
    }
  }
  return plans;
}

/** Decode threads: the config's number, or for `auto` all cores but one (the trainer's). */
export function workersOf(cfg: DataConfig): number {
  return cfg.workers === 'auto' ? Math.max(1, Math.min(4, availableParallelism() - 1)) : cfg.workers;
}

/**
 * Worker threads only pay off when there is real work per sample: decoding, or
 * resampling raw pixels. Raw MNIST/CIFAR at native size is copied on the main thread.
 */
function needsThreads(source: DataSource, plans: Plans): boolean {
  if (source.nativeSize === null) return true;
  return Object.values(plans).some((p) => p.spec.kind === 'rrc' || p.spec.size !== source.nativeSize);
}

export function datasetInfo(cfg: DataConfig, source: DataSource, plans: Plans): DatasetInfo {
  const mean = cfg.mean ?? source.mean;
  const std = cfg.std ?? source.std;
  if (mean.length !== source.channels || std.length !== source.channels) {
    throw new DataError(
      `data.mean/std: expected ${source.channels} values (one per channel), got ${mean.length}`,
    );
  }
  const { size, channels } = (plans.train ?? plans.val)!.spec;
  return {
    source: cfg.source,
    numClasses: source.classNames.length,
    classNames: source.classNames,
    height: size,
    width: size,
    channels,
    mean,
    std,
    trainSize: plans.train?.size ?? 0,
    valSize: plans.val?.size ?? 0,
  };
}

export interface BuildOptions {
  seed: number;
  batchSize: number;
  logger?: DataLogger;
  /** Override `data.workers` (bench). */
  workers?: number;
  /** Override the transforms (prepare); `training: false` reads train unshuffled, keeping its last batch. */
  spec?: (split: Split, source: DataSource) => TransformSpec;
  training?: boolean;
  /** The splits to open (default both): bench and prepare open only those they read. */
  splits?: readonly Split[];
}

/** Open the configured source and wrap it in a Loader. `cfg` must have absolute paths. */
export async function buildLoader(resolved: DataConfig, opts: BuildOptions): Promise<Loader> {
  if (!Number.isInteger(opts.batchSize) || opts.batchSize < 1)
    throw new DataError(`batch size must be a positive integer`);
  const skips = new SkipLog(opts.logger);
  const { source, ctx } = await openConfigured({ cfg: resolved, skips, logger: opts.logger });
  const cfg = ctx.cfg;
  try {
    const spec = (split: Split) => opts.spec?.(split, source) ?? transformOf(split, cfg, source);
    const plans = await makePlans(source, cfg, spec, opts.training ?? true, opts.logger, opts.splits);
    const info = datasetInfo(resolved, source, plans);
    const threads = needsThreads(source, plans) ? (opts.workers ?? workersOf(cfg)) : 0;
    opts.logger?.info(
      { source: info.source, train: info.trainSize, val: info.valSize, size: info.height, threads },
      'data: loader ready',
    );
    return new Loader(info, source, plans, {
      seed: opts.seed,
      batchSize: opts.batchSize,
      prefetch: Math.max(cfg.prefetch, threads),
      shuffleBuffer: cfg.shuffle_buffer,
      executor: createExecutor(threads),
      skips,
    });
  } catch (err) {
    await source.close();
    throw err;
  }
}
