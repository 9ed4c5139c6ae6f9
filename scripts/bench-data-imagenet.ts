/**
 * The data pipeline at ImageNet scale (issue 16, item 3): an ImageNet-like JPEG set made
 * from the shared Imagewoof images, the loader's decode + RandomResizedCrop + flip rate at
 * 224 px per decode-thread count, and where one image's time goes. Used by
 * scripts/bench-data.ts (`--imagenet-like`) and by bench-gpu's data section on a GPU node.
 *
 * ImageNet's train images average about 400x350 px and 110 KB. Imagewoof-112's are 112 px
 * on the shorter side, ~4 KB: each is upscaled (lanczos3) to `shortSide` px on its shorter
 * side (350: a 4:3 image becomes 466x350), given mild grain (a window of one fixed noise
 * field, blended with `overlay`: upscaled pictures are too smooth to reach ImageNet's bytes
 * per pixel, and JPEG decoding time grows with the coded bytes), and written as a baseline
 * 4:2:0 JPEG at the quality that brings a sample of them nearest to `targetKb` on average.
 * The layout is ImageNet's (and Imagewoof's): `train/<wnid>/*.JPEG`, `val/<wnid>/*.JPEG`.
 */
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { type BenchRow, benchLoader } from '../src/data/bench.js';
import { dataConfigSchema } from '../src/data/config.js';
import { applyGeometry, rrcBox, type TransformSpec } from '../src/data/transforms.js';
import { Rng, seedFrom } from '../src/util/rng.js';

export interface ImagenetLikeOptions {
  /** Imagewoof-like root: train/ and val/ of class folders. */
  src: string;
  dst: string;
  /** Images per class taken from each split (the first ones by file name); null = all. */
  trainPerClass: number | null;
  valPerClass: number | null;
  shortSide?: number;
  targetKb?: number;
  /** Images encoded at once (sharp calls in flight); default: the cores. */
  concurrency?: number;
}

export interface ImagenetLikeSet {
  dir: string;
  train: number;
  val: number;
  classes: number;
  quality: number;
  meanKb: number;
  meanWidth: number;
  meanHeight: number;
  seconds: number;
}

/** The qualities tried on the sample, lowest first. */
const QUALITIES = [90, 95, 97, 98, 99, 100];
const NOISE_SIDE = 1024;
/** Grain: triangular noise of this amplitude around mid-grey, blended with overlay. */
const NOISE_AMPLITUDE = 20;

/** Deterministic noise field (xorshift32), 3 channels around 128. */
function noiseField(): Uint8Array {
  const field = new Uint8Array(NOISE_SIDE * NOISE_SIDE * 3);
  let s = 0x9e3779b9;
  const next = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
  for (let i = 0; i < field.length; i++) field[i] = 128 + Math.round((next() + next() - 1) * NOISE_AMPLITUDE);
  return field;
}

/** A w x h window of the field at an offset picked by `index` (w, h ≤ NOISE_SIDE). */
function noiseWindow(field: Uint8Array, w: number, h: number, index: number): Uint8Array {
  const ox = (index * 7919) % (NOISE_SIDE - w + 1);
  const oy = (index * 104729) % (NOISE_SIDE - h + 1);
  const out = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    const from = ((oy + y) * NOISE_SIDE + ox) * 3;
    out.set(field.subarray(from, from + w * 3), y * w * 3);
  }
  return out;
}

interface Job {
  from: string;
  to: string;
  index: number;
}

/** The first `perClass` files of each class folder of `split`, sorted by name. */
function listSplit(src: string, dst: string, split: string, perClass: number | null, first: number): Job[] {
  const root = path.join(src, split);
  const jobs: Job[] = [];
  for (const cls of readdirSync(root).sort()) {
    if (!statSync(path.join(root, cls)).isDirectory()) continue;
    const files = readdirSync(path.join(root, cls))
      .filter((f) => /\.(jpe?g|png)$/i.test(f))
      .sort();
    for (const f of perClass === null ? files : files.slice(0, perClass)) {
      const to = path.join(dst, split, cls, f.replace(/\.\w+$/, '.JPEG'));
      jobs.push({ from: path.join(root, cls, f), to, index: first + jobs.length });
    }
  }
  return jobs;
}

/** One image upscaled, grained and encoded. */
async function encode(
  job: Job,
  field: Uint8Array,
  shortSide: number,
  quality: number,
): Promise<{ jpeg: Buffer; width: number; height: number }> {
  const bytes = readFileSync(job.from);
  const meta = await sharp(bytes).metadata();
  const [w0, h0] = [meta.width ?? 1, meta.height ?? 1];
  const scale = shortSide / Math.min(w0, h0);
  const width = Math.min(NOISE_SIDE, Math.round(w0 * scale));
  const height = Math.min(NOISE_SIDE, Math.round(h0 * scale));
  const grain = Buffer.from(noiseWindow(field, width, height, job.index).buffer);
  const jpeg = await sharp(bytes)
    .removeAlpha()
    .toColourspace('srgb')
    .resize(width, height, { fit: 'fill', kernel: 'lanczos3' })
    .composite([{ input: grain, raw: { width, height, channels: 3 }, blend: 'overlay' }])
    .jpeg({ quality, chromaSubsampling: '4:2:0' })
    .toBuffer();
  return { jpeg, width, height };
}

/** Run `fn` over `items`, at most `limit` at once. */
async function pool<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]);
  });
  await Promise.all(lanes);
}

/** The quality whose mean size on `sample` comes nearest to `targetKb`. */
async function calibrate(
  sample: Job[],
  field: Uint8Array,
  shortSide: number,
  targetKb: number,
  concurrency: number,
): Promise<number> {
  let best = { quality: 100, miss: Number.POSITIVE_INFINITY };
  for (const quality of QUALITIES) {
    let bytes = 0;
    await pool(sample, concurrency, async (job) => {
      bytes += (await encode(job, field, shortSide, quality)).jpeg.length;
    });
    const miss = Math.abs(bytes / sample.length / 1024 - targetKb);
    if (miss < best.miss) best = { quality, miss };
  }
  return best.quality;
}

/** Write the set under `o.dst` (train/ and val/ of class folders). */
export async function makeImagenetLike(o: ImagenetLikeOptions): Promise<ImagenetLikeSet> {
  const t0 = performance.now();
  const [shortSide, targetKb] = [o.shortSide ?? 350, o.targetKb ?? 110];
  const concurrency = o.concurrency ?? Math.max(2, availableParallelism());
  const train = listSplit(o.src, o.dst, 'train', o.trainPerClass, 0);
  const val = listSplit(o.src, o.dst, 'val', o.valPerClass, train.length);
  if (train.length === 0) throw new Error(`no images under ${path.join(o.src, 'train')}`);
  const jobs = [...train, ...val];
  const field = noiseField();
  // Every 8th image, at most 16: spread over the classes.
  const sample = jobs.filter((_, i) => i % 8 === 0).slice(0, 16);
  const quality = await calibrate(sample, field, shortSide, targetKb, concurrency);
  for (const dir of new Set(jobs.map((j) => path.dirname(j.to)))) mkdirSync(dir, { recursive: true });
  let [bytes, width, height] = [0, 0, 0];
  await pool(jobs, concurrency, async (job) => {
    const out = await encode(job, field, shortSide, quality);
    writeFileSync(job.to, out.jpeg);
    bytes += out.jpeg.length;
    width += out.width;
    height += out.height;
  });
  return {
    dir: o.dst,
    train: train.length,
    val: val.length,
    classes: new Set(train.map((j) => path.dirname(j.to))).size,
    quality,
    meanKb: bytes / jobs.length / 1024,
    meanWidth: width / jobs.length,
    meanHeight: height / jobs.length,
    seconds: (performance.now() - t0) / 1000,
  };
}

/**
 * The loader's train pipeline (decode + RandomResizedCrop + flip, batches of `batchSize`)
 * on `dir` at `size` px, once per decode-thread count; `perThread` images per thread, so
 * each row runs for about the same time.
 */
export async function sweepThreads(
  dir: string,
  size: number,
  threads: number[],
  o: { perThread: number; batchSize: number; label?: string },
): Promise<BenchRow[]> {
  const cfg = dataConfigSchema.parse({ source: 'imagefolder', path: path.resolve(dir), image_size: size });
  const rows: BenchRow[] = [];
  for (const t of threads) {
    const label = o.label ?? `imagenet-like train (RRC+flip) @${size}`;
    rows.push(
      ...(await benchLoader(cfg, { threads: [t], images: o.perThread * t, batchSize: o.batchSize, label })),
    );
  }
  return rows;
}

export interface CostSplit {
  images: number;
  meanKb: number;
  /** sharp's JPEG decode to RGB, one image at a time on this thread. */
  decodeMs: number;
  /** RandomResizedCrop + flip of the decoded pixels (src/data/resample.ts). */
  geometryMs: number;
  /**
   * Share of the RandomResizedCrop boxes at least `k` times the output on both axes: the
   * crops a JPEG shrink-on-load by 2 (sharp uses it from a reduction of 3 on) could serve.
   */
  shrinkable2x: number;
  shrinkable3x: number;
}

/** Where one training image's time goes at `size` px: decode vs crop/resample, on the first `n` train images. */
export async function costSplit(dir: string, size: number, n: number): Promise<CostSplit> {
  const root = path.join(dir, 'train');
  const files = readdirSync(root)
    .sort()
    .flatMap((c) => readdirSync(path.join(root, c)).map((f) => path.join(root, c, f)))
    .filter((_, i, all) => i % Math.max(1, Math.floor(all.length / n)) === 0)
    .slice(0, n);
  const spec: TransformSpec = {
    kind: 'rrc',
    size,
    channels: 3,
    flip: true,
    cropPct: 0.875,
    scale: [0.08, 1],
    ratio: [3 / 4, 4 / 3],
    pad: 0,
    failOn: 'error',
  };
  const dst = new Uint8Array(size * size * 3);
  let [decode, geometry, bytes, twice, thrice] = [0, 0, 0, 0, 0];
  for (const [i, file] of files.entries()) {
    const jpeg = readFileSync(file);
    bytes += jpeg.length;
    let t = performance.now();
    const { data, info } = await sharp(jpeg)
      .toColourspace('srgb')
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    decode += performance.now() - t;
    const img = { data, width: info.width, height: info.height, channels: info.channels };
    t = performance.now();
    applyGeometry(img, spec, new Rng(seedFrom(0, i)), dst, 0);
    geometry += performance.now() - t;
    const box = rrcBox(info.width, info.height, spec.scale, spec.ratio, new Rng(seedFrom(0, i)));
    const smaller = Math.min(box.x1 - box.x0, box.y1 - box.y0);
    if (smaller >= 2 * size) twice++;
    if (smaller >= 3 * size) thrice++;
  }
  const k = Math.max(1, files.length);
  return {
    images: files.length,
    meanKb: bytes / k / 1024,
    decodeMs: decode / k,
    geometryMs: geometry / k,
    shrinkable2x: twice / k,
    shrinkable3x: thrice / k,
  };
}
