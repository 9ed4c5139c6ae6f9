/**
 * Public API of the data layer: build a BatchLoader from the `data:` section of a run
 * config. See docs/data.md for the sources, config keys and guarantees.
 */
import { type DataConfig, resolveDataPaths } from './config.js';
import type { DataLogger } from './errors.js';
import { buildLoader } from './setup.js';
import type { BatchLoader } from './types.js';

export { type DataConfig, dataConfigSchema, resolveDataPaths } from './config.js';
export { DataError, type DataLogger } from './errors.js';
export type { Batch, BatchLoader, DataStats, DatasetInfo, Split } from './types.js';

export interface CreateLoaderOptions {
  /** Run seed: the batch order and augmentation are a pure function of (seed, split, epoch). */
  seed: number;
  batchSize: number;
  /** Folder the config file is in: relative data paths are resolved against it. */
  baseDir: string;
  logger?: DataLogger;
}

/**
 * A loader for `cfg`. Opens the source (or its prepared cache), counts samples and
 * checks labels up front; decoding starts with the first `epochBatches` call.
 */
export async function createLoader(cfg: DataConfig, opts: CreateLoaderOptions): Promise<BatchLoader> {
  return buildLoader(resolveDataPaths(cfg, opts.baseDir), opts);
}
