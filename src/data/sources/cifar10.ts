/**
 * CIFAR-10, official binary version: `data_batch_1..5.bin` (train) and `test_batch.bin`
 * (val); each record is 1 label byte + 3072 pixel bytes (1024 R, 1024 G, 1024 B planes,
 * row-major 32x32). Records are re-interleaved to HWC once at load.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { DataError, type DataLogger, errorMessage, where } from '../errors.js';
import type { DataSource, IndexedSplit, SourceContext } from './source.js';
import { labelRangeMessage } from './source.js';

const SIDE = 32;
const PIXELS = SIDE * SIDE;
const RECORD = 1 + 3 * PIXELS;
/** Records in each official batch file (5 x 10,000 train, 10,000 test). */
const OFFICIAL_RECORDS = 10_000;
const CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];
const FILES = {
  train: [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`),
  val: ['test_batch.bin'],
};

/** The folder holding the .bin files: `path` itself or its `cifar-10-batches-bin/`. */
export function cifarDir(p: string): string {
  const nested = path.join(p, 'cifar-10-batches-bin');
  return existsSync(path.join(p, FILES.val[0])) || !existsSync(nested) ? p : nested;
}

function loadSplit(dir: string, name: 'train' | 'val', logger?: DataLogger): IndexedSplit {
  const chunks = FILES[name].map((f) => {
    const file = path.join(dir, f);
    let buf: Buffer;
    try {
      buf = readFileSync(file);
    } catch (err) {
      throw new DataError(`cannot read CIFAR-10 file ${file}: ${errorMessage(err)}`);
    }
    if (buf.length === 0 || buf.length % RECORD !== 0) {
      throw new DataError(`${file}: ${buf.length} bytes is not a whole number of ${RECORD}-byte records`);
    }
    // A file cut at a record boundary reads as a valid smaller one: say so, but go on, since
    // users make subsets with these names on purpose.
    const records = buf.length / RECORD;
    if (records !== OFFICIAL_RECORDS) {
      logger?.warn(
        { file, records, expected: OFFICIAL_RECORDS },
        `data: cifar10: ${file} holds ${records} records, the official file ${OFFICIAL_RECORDS} (a cut copy, or a subset made on purpose?)`,
      );
    }
    return { file, buf };
  });
  const n = chunks.reduce((a, c) => a + c.buf.length / RECORD, 0);
  const pixels = new Uint8Array(n * 3 * PIXELS);
  const labels = new Uint8Array(n);
  const origin: { file: string; first: number }[] = [];
  let i = 0;
  for (const { file, buf } of chunks) {
    origin.push({ file, first: i });
    for (let r = 0; r < buf.length; r += RECORD, i++) {
      const label = buf[r];
      if (label >= CLASSES.length) {
        throw new DataError(labelRangeMessage(label, CLASSES.length, where(file, { record: r / RECORD })));
      }
      labels[i] = label;
      const out = i * 3 * PIXELS;
      for (let p = 0; p < PIXELS; p++) {
        pixels[out + 3 * p] = buf[r + 1 + p];
        pixels[out + 3 * p + 1] = buf[r + 1 + PIXELS + p];
        pixels[out + 3 * p + 2] = buf[r + 1 + 2 * PIXELS + p];
      }
    }
  }
  const whereOf = (k: number) => {
    let o = origin[0];
    for (const c of origin) if (c.first <= k) o = c;
    return where(o.file, { record: k - o.first });
  };
  return {
    kind: 'indexed',
    size: n,
    ref: (k) => ({
      label: labels[k],
      where: whereOf(k),
      bytes: pixels.subarray(k * 3 * PIXELS, (k + 1) * 3 * PIXELS),
      raw: { width: SIDE, height: SIDE, channels: 3 },
    }),
  };
}

/** Class names from `batches.meta.txt` when present and sane, else the published list. */
function classNames(dir: string): string[] {
  const meta = path.join(dir, 'batches.meta.txt');
  if (!existsSync(meta)) return CLASSES;
  const names = readFileSync(meta, 'utf8')
    .split(/\r?\n/)
    .map((s) => s.trim())
    .filter(Boolean);
  return names.length === CLASSES.length ? names : CLASSES;
}

export async function openCifar10(ctx: SourceContext): Promise<DataSource> {
  if (!ctx.cfg.path)
    throw new DataError('data.path: required for source cifar10 (the cifar-10-batches-bin folder)');
  if (!existsSync(ctx.cfg.path)) throw new DataError(`data.path: ${ctx.cfg.path} does not exist`);
  const dir = cifarDir(ctx.cfg.path);
  const splits = new Map<string, Promise<IndexedSplit>>();
  return {
    name: 'cifar10',
    classNames: classNames(dir),
    mean: [0.4914, 0.4822, 0.4465],
    std: [0.247, 0.2435, 0.2616],
    channels: 3,
    nativeSize: SIDE,
    defaultAugment: 'cifar',
    defaults: { imageSize: SIDE },
    evalGeometry: 'stretch',
    split(name) {
      if (!splits.has(name))
        splits.set(
          name,
          Promise.resolve().then(() => loadSplit(dir, name, ctx.logger)),
        );
      return splits.get(name)!;
    },
    async close() {},
  };
}
