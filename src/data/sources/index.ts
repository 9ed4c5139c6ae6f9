/**
 * Source registry: the one place that maps `data.source` to an implementation, and that
 * guesses the format of a bare path (`wtrain data inspect <path>`).
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import type { DataSourceName } from '../config.js';
import { DataError } from '../errors.js';
import { openCache, readCacheMeta } from './cache.js';
import { cifarDir, openCifar10 } from './cifar10.js';
import { openImageFolder } from './imagefolder.js';
import { openMnist } from './mnist.js';
import type { DataSource, SourceContext } from './source.js';
import { openTfRecord } from './tfrecord.js';
import { openWebDataset } from './webdataset.js';

export async function openSource(ctx: SourceContext): Promise<DataSource> {
  const source = ctx.cfg.source;
  switch (source) {
    case 'mnist':
    case 'fashion_mnist':
      return openMnist(ctx, source);
    case 'cifar10':
      return openCifar10(ctx);
    case 'imagefolder':
      return openImageFolder(ctx);
    case 'webdataset':
      return openWebDataset(ctx);
    case 'tfrecord':
      return openTfRecord(ctx);
    case 'cache':
      return openCache(ctx);
  }
}

export interface Detected {
  source: DataSourceName;
  path: string;
  val_path?: string;
}

const TFRECORD_NAME = /\.(tfrecords?|tfrec)(-\d+-of-\d+)?$|^(train|validation|val)-\d{5}-of-\d{5}$|tfrecord/i;
const VAL_NAME = /val|validation|test/i;

/** A `{a,b,c}` pattern for an explicit list of files in one folder. */
function listPattern(dir: string, names: string[]): string {
  return names.length === 1 ? path.join(dir, names[0]) : path.join(dir, `{${names.join(',')}}`);
}

/** WebDataset shard names: plain or gzip-compressed tars. */
const TAR_NAME = /\.(tar|tar\.gz|tgz)$/;

/** Which source reads `p` (a file, folder or shard pattern); an error says what was expected. */
export function detectSource(p: string): Detected {
  if (p.includes('{') || !existsSync(p)) {
    if (/\.(tar|tgz)\b/.test(p)) return { source: 'webdataset', path: p };
    if (TFRECORD_NAME.test(path.basename(p))) return { source: 'tfrecord', path: p };
    throw new DataError(`${p}: not found`);
  }
  if (statSync(p).isFile()) {
    if (TAR_NAME.test(p)) return { source: 'webdataset', path: p };
    return { source: 'tfrecord', path: p };
  }
  if (readCacheMeta(p)) return { source: 'cache', path: p };
  if (existsSync(path.join(cifarDir(p), 'test_batch.bin'))) return { source: 'cifar10', path: p };
  const names = readdirSync(p).sort();
  if (names.some((n) => /-idx[13]-ubyte(\.gz)?$/.test(n))) return { source: 'mnist', path: p };
  for (const [source, test] of [
    ['webdataset', (n: string) => TAR_NAME.test(n)],
    ['tfrecord', (n: string) => TFRECORD_NAME.test(n)],
  ] as const) {
    const shards = names.filter(test);
    if (shards.length === 0) continue;
    const train = shards.filter((n) => !VAL_NAME.test(n));
    const val = shards.filter((n) => VAL_NAME.test(n));
    return {
      source,
      path: listPattern(p, train.length ? train : val),
      ...(train.length && val.length ? { val_path: listPattern(p, val) } : {}),
    };
  }
  if (names.some((n) => statSync(path.join(p, n)).isDirectory())) return { source: 'imagefolder', path: p };
  throw new DataError(
    `${p}: cannot tell the data format: expected MNIST idx files, CIFAR-10 .bin batches, class folders, .tar (.tar.gz, .tgz) or TFRecord shards`,
  );
}
