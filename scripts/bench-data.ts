/**
 * Data pipeline throughput on the real data sets in ../shared/datasets (issue 3):
 * decode + augment images/s on Imagewoof at image_size 112 and 224 with 1 and 2 decode
 * threads, and the raw reading rate of the CIFAR-10 binary and of a prepared cache.
 *
 *   scripts/bench-data [--images 2000] [--trainer-ips <images/s from scripts/bench-engine>]
 *
 * Run it once: it takes about a minute and loads every core.
 *
 * With --imagenet-like (issue 16): makes an ImageNet-sized JPEG set from Imagewoof
 * (scripts/bench-data-imagenet.ts: ~466x350 px, ~110 KB) and times decode +
 * RandomResizedCrop + flip at --size (224) for each --threads count, plus one image's
 * decode vs crop time. bench-gpu runs the same on a GPU node (1..16 threads, each in its own
 * process). Here all rows share this process's libuv pool, where sharp decodes: above 4
 * threads, start it with UV_THREADPOOL_SIZE above the thread count (docs/gpu.md).
 *
 *   scripts/bench-data --imagenet-like [--per-class 40] [--val-per-class 10] [--threads 1,2,4,8,16]
 *     [--size 224] [--per-thread 256] [--keep DIR]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { type BenchRow, benchLoader, formatBench } from '../src/data/bench.js';
import { type DataConfig, dataConfigSchema } from '../src/data/config.js';
import { prepareCache } from '../src/data/prepare.js';
import { costSplit, makeImagenetLike, sweepThreads } from './bench-data-imagenet.js';

const { values } = parseArgs({
  options: {
    images: { type: 'string', default: '2000' },
    'trainer-ips': { type: 'string' },
    'batch-size': { type: 'string', default: '128' },
    'imagenet-like': { type: 'boolean', default: false },
    'per-class': { type: 'string', default: '40' },
    'val-per-class': { type: 'string', default: '10' },
    threads: { type: 'string', default: '1,2,4,8,16' },
    size: { type: 'string', default: '224' },
    'per-thread': { type: 'string', default: '256' },
    keep: { type: 'string' },
  },
});
const images = Number(values.images);
const batchSize = Number(values['batch-size']);
const trainerIps = values['trainer-ips'] ? Number(values['trainer-ips']) : null;
const shared = path.resolve(import.meta.dirname, '..', '..', 'shared', 'datasets');
const woof = path.join(shared, 'imagewoof2-112');
const cifar = path.join(shared, 'cifar10');

const cfg = (over: Record<string, unknown>): DataConfig => dataConfigSchema.parse(over);
const rows: BenchRow[] = [];
/** `scale`: raw pixel sources run ~50x faster; time them over more images. */
const bench = async (label: string, c: DataConfig, threads: number[], scale = 1) => {
  const r = await benchLoader(c, { threads, images: images * scale, batchSize, label });
  rows.push(...r);
  for (const row of r)
    console.error(`  ${label}, ${row.threads || 'main'} thread(s): ${Math.round(row.imagesPerSec)} images/s`);
};

console.error(
  `machine: ${cpus()[0]?.model ?? '?'}, ${availableParallelism()} cores; ${images} images per row, batch ${batchSize}`,
);

/** --imagenet-like: the set, the thread sweep and the cost split, then exit. */
async function imagenetLike(): Promise<void> {
  const dst = values.keep ?? mkdtempSync(path.join(tmpdir(), 'wtrain-imagenet-like-'));
  try {
    const made = await makeImagenetLike({
      src: woof,
      dst,
      trainPerClass: Number(values['per-class']),
      valPerClass: Number(values['val-per-class']),
    });
    console.error(
      `  made ${made.train} train + ${made.val} val images in ${made.seconds.toFixed(1)} s: ` +
        `${made.meanWidth.toFixed(0)}x${made.meanHeight.toFixed(0)} px, ${made.meanKb.toFixed(0)} KB, quality ${made.quality}`,
    );
    const size = Number(values.size);
    const threads = values.threads.split(',').map(Number);
    const perThread = Number(values['per-thread']);
    console.log(formatBench(await sweepThreads(dst, size, threads, { perThread, batchSize })));
    const split = await costSplit(dst, size, 64);
    console.log(
      `\none image on one thread (${split.images} images, ${split.meanKb.toFixed(0)} KB): decode ${split.decodeMs.toFixed(2)} ms, ` +
        `RandomResizedCrop+flip to ${size} px ${split.geometryMs.toFixed(2)} ms; crops ≥ 2x / 3x the output on both axes ` +
        `(where a JPEG shrink-on-load could apply): ${(100 * split.shrinkable2x).toFixed(0)} % / ${(100 * split.shrinkable3x).toFixed(0)} %`,
    );
  } finally {
    if (!values.keep) rmSync(dst, { recursive: true, force: true });
  }
}
if (values['imagenet-like']) {
  await imagenetLike();
  process.exit(0);
}
for (const size of [112, 224]) {
  await bench(
    `imagewoof train (RRC+flip) @${size}`,
    cfg({ source: 'imagefolder', path: woof, image_size: size }),
    [1, 2],
  );
}
await bench(
  'imagewoof val (resize+center crop) @112',
  cfg({ source: 'imagefolder', path: woof, image_size: 112 }),
  [2],
);
await bench(
  'cifar10 binary, raw read (no augment)',
  cfg({ source: 'cifar10', path: cifar, augment: 'none' }),
  [0],
);
await bench('cifar10 binary, pad+crop+flip', cfg({ source: 'cifar10', path: cifar }), [0]);

const dir = mkdtempSync(path.join(tmpdir(), 'wtrain-bench-cache-'));
try {
  const woofCached = cfg({
    source: 'imagefolder',
    path: woof,
    image_size: 112,
    cache: dir,
    train: { limit: 4000 },
    val: { limit: 500 },
  });
  const t0 = performance.now();
  const { meta } = await prepareCache(woofCached, { workers: 2 });
  const secs = (performance.now() - t0) / 1000;
  const n = (meta.splits.train?.count ?? 0) + (meta.splits.val?.count ?? 0);
  console.error(`  prepared ${n} images at ${meta.storedSize}px in ${secs.toFixed(1)} s`);
  rows.push({
    label: 'prepare cache (decode + resize + write) @112',
    threads: 2,
    images: n,
    seconds: secs,
    imagesPerSec: n / secs,
  });
  const asCache = cfg({ source: 'cache', path: dir });
  await bench('prepared cache, raw read (no augment) @112', { ...asCache, augment: 'none' }, [1], 2);
  await bench('prepared cache, RRC+flip @112', asCache, [1, 2]);
} finally {
  rmSync(dir, { recursive: true, force: true });
}

console.log(formatBench(rows));
console.log();
if (trainerIps) {
  const best = Math.max(
    ...rows.filter((r) => r.label.startsWith('imagewoof train')).map((r) => r.imagesPerSec),
  );
  console.log(
    `trainer consumes ${trainerIps} images/s (scripts/bench-engine); best Imagewoof train pipeline: ${Math.round(best)} images/s = ${(best / trainerIps).toFixed(1)}x (target >= 2x)`,
  );
} else {
  console.log(
    'trainer side: not measured here (pass --trainer-ips <images/s from scripts/bench-engine> to print the ratio; target >= 2x)',
  );
}
