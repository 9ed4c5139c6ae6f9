/**
 * The decoded cache written by `wtrain data prepare` (../prepare.ts): per split, a packed
 * file of fixed-size uint8 HWC images (`<split>.u8`, record i at byte i*H*W*C) and its
 * labels (`<split>.labels`, int32 LE), described by `meta.json`. Photos are stored
 * resized (shorter side) and center-cropped to floor(image_size / crop_pct) square, so
 * eval is a plain center crop and training crops randomly from that square: no decoding.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { DataConfig } from '../config.js';
import { DataError, errorMessage, where } from '../errors.js';
import type { Split } from '../types.js';
import type { AugmentFamily, DataSource, IndexedSplit, SourceContext } from './source.js';

export const CACHE_FORMAT = 'wtrain-cache';
export const CACHE_VERSION = 1;

export interface CacheMeta {
  format: typeof CACHE_FORMAT;
  version: number;
  /** The source it was made from. */
  source: string;
  /** The config keys that decide its contents; the cache is used for a config only when they match. */
  fingerprint: string;
  imageSize: number;
  storedSize: number;
  channels: 1 | 3;
  cropPct: number;
  classNames: string[];
  mean: number[];
  std: number[];
  defaultAugment: AugmentFamily;
  evalGeometry: 'center' | 'stretch';
  splits: Partial<Record<Split, { count: number; skipped: number }>>;
}

export const cacheFiles = (dir: string, split: Split) => ({
  pixels: path.join(dir, `${split}.u8`),
  labels: path.join(dir, `${split}.labels`),
});

/** What a cache made from `cfg` (paths resolved) at `imageSize` contains. */
export function cacheFingerprint(cfg: DataConfig, imageSize: number): string {
  const split = (s: DataConfig['train']) => ({ from: s.from ?? null, range: s.range, limit: s.limit });
  return JSON.stringify({
    source: cfg.source,
    // ImageFolder's listing rules changed (v2: symlinks followed, class subfolders walked),
    // so a cache listed by the old rules is not taken for one of the same tree now.
    listing: cfg.source === 'imagefolder' ? 2 : undefined,
    // label_base auto once took TF-slim/TPU keys as 1-based and WebDataset labels as 0-based
    // whatever they held; it is decided from the stored labels now (v2).
    label_rule:
      (cfg.source === 'tfrecord' || cfg.source === 'webdataset') && cfg.label_base === 'auto' ? 2 : undefined,
    path: cfg.path,
    val_path: cfg.val_path,
    val_labels: cfg.val_labels,
    devkit_meta: cfg.devkit_meta,
    image_size: imageSize,
    crop_pct: cfg.crop_pct,
    fail_on: cfg.fail_on,
    num_classes: cfg.num_classes,
    label_base: cfg.label_base,
    train: split(cfg.train),
    val: split(cfg.val),
  });
}

/** meta.json of a cache folder, or null when there is none. */
export function readCacheMeta(dir: string): CacheMeta | null {
  const file = path.join(dir, 'meta.json');
  if (!existsSync(file)) return null;
  let meta: CacheMeta;
  try {
    meta = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new DataError(`${file}: not valid JSON (${errorMessage(err)})`);
  }
  if (meta.format !== CACHE_FORMAT || meta.version !== CACHE_VERSION) {
    throw new DataError(
      `${file}: not a ${CACHE_FORMAT} v${CACHE_VERSION} cache (re-run wtrain data prepare)`,
    );
  }
  return meta;
}

function loadSplit(dir: string, meta: CacheMeta, name: Split): IndexedSplit {
  const info = meta.splits[name];
  if (!info) throw new DataError(`${dir}: the cache has no ${name} split (prepare it with --splits ${name})`);
  const files = cacheFiles(dir, name);
  const per = meta.storedSize * meta.storedSize * meta.channels;
  let labels: Int32Array;
  try {
    const buf = readFileSync(files.labels);
    labels = new Int32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length));
    const size = statSync(files.pixels).size;
    if (labels.length !== info.count || size !== info.count * per) {
      throw new Error(`expected ${info.count} records of ${per} bytes and ${info.count} labels`);
    }
  } catch (err) {
    throw new DataError(
      `${dir}: ${name} split is damaged: ${errorMessage(err)} (re-run wtrain data prepare)`,
    );
  }
  const raw = { width: meta.storedSize, height: meta.storedSize, channels: meta.channels };
  return {
    kind: 'indexed',
    size: info.count,
    ref: (i) => ({
      label: labels[i],
      where: where(files.pixels, { record: i }),
      file: files.pixels,
      offset: i * per,
      length: per,
      raw,
    }),
  };
}

export function openCache(ctx: SourceContext): DataSource {
  const dir = ctx.cfg.path;
  if (!dir)
    throw new DataError('data.path: required for source cache (a folder made by wtrain data prepare)');
  const meta = readCacheMeta(dir);
  if (!meta)
    throw new DataError(`data.path: ${dir} has no meta.json: not a cache made by wtrain data prepare`);
  const wanted = ctx.cfg.image_size;
  if (wanted !== null && wanted !== meta.imageSize) {
    throw new DataError(
      `data.image_size: ${wanted}, but the cache at ${dir} was prepared at ${meta.imageSize}: prepare it again at ${wanted}`,
    );
  }
  const splits = new Map<string, Promise<IndexedSplit>>();
  return {
    name: meta.source,
    classNames: meta.classNames,
    mean: meta.mean,
    std: meta.std,
    channels: meta.channels,
    nativeSize: meta.storedSize,
    defaultAugment: meta.defaultAugment,
    evalGeometry: meta.evalGeometry,
    defaults: { imageSize: meta.imageSize, cropPct: meta.cropPct },
    split(name) {
      if (!splits.has(name))
        splits.set(
          name,
          Promise.resolve().then(() => loadSplit(dir, meta, name)),
        );
      return splits.get(name)!;
    },
    async close() {},
  };
}
