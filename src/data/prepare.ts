/**
 * `wtrain data prepare`: decode a source once into the packed uint8 cache read by
 * ./sources/cache.ts, so later epochs pay no decode cost (what FFCV does for PyTorch).
 * Each split is written in natural order to a temp file, then renamed; meta.json last.
 */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { DataConfig } from './config.js';
import { DataError, type DataLogger } from './errors.js';
import { buildLoader, imageSizeOf, SPLITS, transformOf } from './setup.js';
import {
  CACHE_FORMAT,
  CACHE_VERSION,
  type CacheMeta,
  cacheFiles,
  cacheFingerprint,
} from './sources/cache.js';
import type { DataSource } from './sources/source.js';
import type { Split } from './types.js';

export interface PrepareOptions {
  /** Output folder; default `data.cache`. */
  out?: string;
  splits?: Split[];
  workers?: number;
  logger?: DataLogger;
  onProgress?: (split: Split, done: number, total: number) => void;
}

/** Write the cache of `resolved` (absolute paths). Returns its folder and meta. */
export async function prepareCache(
  resolved: DataConfig,
  opts: PrepareOptions = {},
): Promise<{ dir: string; meta: CacheMeta }> {
  if (resolved.source === 'cache')
    throw new DataError('data.source is already cache: point prepare at the original source');
  const dir = opts.out ? path.resolve(opts.out) : resolved.cache;
  if (!dir) throw new DataError('data.cache: not set: give the cache folder there or with --out');
  const splits = opts.splits ?? [...SPLITS];
  // Read the source itself (not an older cache), unshuffled, every sample kept.
  const cfg: DataConfig = { ...resolved, cache: null };
  let made: { size: number; stored: number; source: DataSource } | undefined;
  const loader = await buildLoader(cfg, {
    seed: 0,
    batchSize: 256,
    workers: opts.workers,
    logger: opts.logger,
    training: false,
    splits,
    // Photos: shorter side to floor(size / crop_pct), center crop that square; fixed-size sets as they are.
    spec: (_split, source) => {
      const size = imageSizeOf(cfg, source);
      const stored = source.evalGeometry === 'center' ? Math.floor(size / cfg.crop_pct) : size;
      made = { size, stored, source };
      return { ...transformOf('val', cfg, source), size: stored, cropPct: 1 };
    },
  });
  try {
    const { size, stored, source } = made!;
    await mkdir(dir, { recursive: true });
    const meta: CacheMeta = {
      format: CACHE_FORMAT,
      version: CACHE_VERSION,
      source: resolved.source,
      fingerprint: cacheFingerprint(resolved, size),
      imageSize: size,
      storedSize: stored,
      channels: source.channels,
      cropPct: resolved.crop_pct,
      classNames: loader.info.classNames,
      mean: loader.info.mean,
      std: loader.info.std,
      defaultAugment: source.defaultAugment,
      evalGeometry: source.evalGeometry,
      splits: {},
    };
    for (const split of splits) {
      const files = cacheFiles(dir, split);
      const out = createWriteStream(`${files.pixels}.tmp`);
      const labels: number[] = [];
      const total = split === 'train' ? loader.info.trainSize : loader.info.valSize;
      for await (const batch of loader.epochBatches(split, 0)) {
        if (!out.write(batch.x)) await once(out, 'drain');
        labels.push(...batch.y);
        opts.onProgress?.(split, labels.length, total);
      }
      out.end();
      await once(out, 'finish');
      await writeFile(`${files.labels}.tmp`, new Uint8Array(Int32Array.from(labels).buffer));
      await rename(`${files.pixels}.tmp`, files.pixels);
      await rename(`${files.labels}.tmp`, files.labels);
      meta.splits[split] = { count: labels.length, skipped: total - labels.length };
    }
    await rm(path.join(dir, 'meta.json'), { force: true });
    await writeFile(path.join(dir, 'meta.json'), `${JSON.stringify(meta, null, 2)}\n`);
    return { dir, meta };
  } finally {
    await loader.close();
  }
}
