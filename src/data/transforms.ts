/**
 * Decode + augment one batch. Runs unchanged on the main thread or in a decode worker
 * (./decode-worker.ts): every random choice comes from an Rng seeded with
 * (job seed, sample's position in the epoch), so the result doesn't depend on the thread,
 * the order jobs finish in, or where an epoch was resumed.
 */
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import sharp from 'sharp';
import { Rng, seedFrom } from '../util/rng.js';
import { DataError, errorMessage, type Note, type Skip } from './errors.js';
import { type Box, cropInto, resampleInto } from './resample.js';
import type { RawShape, SampleRef } from './sources/source.js';

/**
 * rrc: RandomResizedCrop (+ flip). center: shorter side to size/cropPct, center crop.
 * cifar: pad, random crop, flip. stretch: resize the whole image to size x size.
 */
export interface TransformSpec {
  kind: 'rrc' | 'center' | 'cifar' | 'stretch';
  size: number;
  channels: 1 | 3;
  /** Random horizontal flip (p = 0.5); rrc and cifar only. */
  flip: boolean;
  cropPct: number;
  scale: [number, number];
  ratio: [number, number];
  pad: number;
  failOn: 'warning' | 'error' | 'truncated' | 'none';
}

export interface BatchJob {
  spec: TransformSpec;
  /** Seed of this (run seed, split, epoch); each sample mixes in its `index`. */
  seed: number;
  /** `index` = the sample's position in the epoch. */
  samples: (SampleRef & { index: number })[];
}

export interface BatchOut {
  /** n * size * size * channels bytes (a view on a buffer sized for every sample of the job). */
  x: Uint8Array;
  y: Int32Array;
  n: number;
  skips: Skip[];
  /** Samples decoded (and kept) though the decoder warned. */
  notes: Note[];
}

interface Pixels {
  data: Uint8Array;
  width: number;
  height: number;
  channels: number;
  /** The decoder's warnings (libjpeg's, through libvips), when it had any. */
  warning?: string;
}

/** sharp settings for decode threads: no operation cache (inputs never repeat), one libvips thread per image. */
export function configureSharp(): void {
  sharp.cache(false);
  sharp.concurrency(1);
}

const fds = new Map<string, number>();

function readSlice(file: string, offset: number, length: number): Uint8Array {
  let fd = fds.get(file);
  if (fd === undefined) {
    fd = openSync(file, 'r');
    fds.set(file, fd);
  }
  const out = new Uint8Array(length);
  const got = readSync(fd, out, 0, length, offset);
  if (got !== length) throw new Error(`read ${got} of ${length} bytes at offset ${offset}`);
  return out;
}

/** Close the files `readSlice` keeps open. */
export function closeFiles(): void {
  for (const fd of fds.values()) closeSync(fd);
  fds.clear();
}

function sampleBytes(s: SampleRef): Uint8Array {
  if (s.bytes) return s.bytes;
  if (s.file === undefined) throw new Error('sample has neither bytes nor a file');
  return s.offset === undefined ? readFileSync(s.file) : readSlice(s.file, s.offset, s.length ?? 0);
}

/** Decode to 8-bit sRGB (or grey), EXIF orientation applied, alpha dropped; CMYK/grey/16-bit converted. */
async function decode(bytes: Uint8Array, spec: TransformSpec): Promise<Pixels> {
  if (!sharp.versions?.vips) {
    // A build without sharp (scripts/bundle.mjs without --with-sharp): fatal, not a corrupt image.
    throw new DataError(
      'sharp is not available in this build: it can read MNIST, CIFAR-10 and prepared caches only',
    );
  }
  // Strict first: libvips reports a decoder warning only as this decode's error (its warning
  // events are one queue for all pipelines, so under concurrent decodes they can't be told
  // apart). An image that fails only the strict decode is kept, with the warning as a note.
  try {
    return await decodeWith(bytes, spec, 'warning');
  } catch (err) {
    if (spec.failOn === 'warning') throw err;
    const pixels = await decodeWith(bytes, spec, spec.failOn);
    return { ...pixels, warning: await warningOf(bytes, spec, errorMessage(err)) };
  }
}

const NO_DETAIL = 'decoder warning (libvips gave no detail)';
let detailQueue: Promise<unknown> = Promise.resolve();

/**
 * The decoder's own words from a strict decode's error. libvips keeps one error buffer for
 * all threads: under concurrent decodes a message may have lost its decoder line (another
 * thread cleared it) or carry lines of other images. So: the decoder lines, deduplicated;
 * if none survived, one more strict decode, queued behind any other such retry.
 */
async function warningOf(bytes: Uint8Array, spec: TransformSpec, message: string): Promise<string> {
  const first = decoderWarning(message);
  if (first) return first;
  const retry = detailQueue
    .then(() => decodeWith(bytes, spec, 'warning'))
    .then(
      () => '',
      (err) => decoderWarning(errorMessage(err)),
    );
  detailQueue = retry;
  return (await retry) || NO_DETAIL;
}

/** The lines of a libvips error that came from the decoder, not its failOn wrapper ('' if none). */
export function decoderWarning(message: string): string {
  const wrapper =
    /^(Warning treated as error due to failOn setting|read gave \d+ warnings?|error in tile \d+ x \d+)$/;
  const lines = message.split('\n').map((l) => l.trim());
  return [...new Set(lines.filter((l) => l && !wrapper.test(l)))].join('; ');
}

async function decodeWith(
  bytes: Uint8Array,
  spec: TransformSpec,
  failOn: TransformSpec['failOn'],
): Promise<Pixels> {
  const { data, info } = await sharp(bytes, { failOn })
    .autoOrient()
    .toColourspace(spec.channels === 1 ? 'b-w' : 'srgb')
    .removeAlpha()
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: info.channels };
}

/** torchvision's RandomResizedCrop.get_params: 10 tries, then a center crop clamped to the ratio range. */
export function rrcBox(
  w: number,
  h: number,
  scale: [number, number],
  ratio: [number, number],
  rng: Rng,
): Box {
  const area = w * h;
  const logLo = Math.log(ratio[0]);
  const logHi = Math.log(ratio[1]);
  for (let attempt = 0; attempt < 10; attempt++) {
    const target = area * (scale[0] + rng.uniform() * (scale[1] - scale[0]));
    const aspect = Math.exp(logLo + rng.uniform() * (logHi - logLo));
    const cw = Math.round(Math.sqrt(target * aspect));
    const ch = Math.round(Math.sqrt(target / aspect));
    if (cw > 0 && cw <= w && ch > 0 && ch <= h) {
      const top = rng.int(h - ch + 1);
      const left = rng.int(w - cw + 1);
      return { x0: left, y0: top, x1: left + cw, y1: top + ch };
    }
  }
  let cw = w;
  let ch = h;
  if (w / h < ratio[0]) ch = Math.round(w / ratio[0]);
  else if (w / h > ratio[1]) cw = Math.round(h * ratio[1]);
  const top = Math.floor((h - ch) / 2);
  const left = Math.floor((w - cw) / 2);
  return { x0: left, y0: top, x1: left + cw, y1: top + ch };
}

/** Python's round(), which torchvision's CenterCrop uses: halves go to the even neighbour. */
function roundHalfEven(v: number): number {
  const f = Math.floor(v);
  if (v - f !== 0.5) return Math.round(v);
  return f % 2 === 0 ? f : f + 1;
}

/**
 * The eval transform as one box: torchvision Resize(floor(size/cropPct)) (shorter side)
 * then CenterCrop(size), expressed in source pixels.
 */
export function centerBox(w: number, h: number, size: number, cropPct: number): Box {
  const short = Math.floor(size / cropPct);
  const rw = w <= h ? short : Math.floor((short * w) / h);
  const rh = w <= h ? Math.floor((short * h) / w) : short;
  const left = roundHalfEven((rw - size) / 2);
  const top = roundHalfEven((rh - size) / 2);
  const sx = w / rw;
  const sy = h / rh;
  return { x0: left * sx, y0: top * sy, x1: (left + size) * sx, y1: (top + size) * sy };
}

function isWhole(box: Box, w: number, h: number, size: number): boolean {
  return (
    box.x1 - box.x0 === size &&
    box.y1 - box.y0 === size &&
    Number.isInteger(box.x0 + box.y0) &&
    w >= size &&
    h >= size
  );
}

/** Box to dst, copying when no resampling is needed. */
function place(img: Pixels, box: Box, size: number, dst: Uint8Array, off: number, flip: boolean): void {
  const { data, width, height, channels } = img;
  if (isWhole(box, width, height, size))
    cropInto(data, width, height, channels, box.x0, box.y0, dst, off, size, size, flip);
  else resampleInto(data, width, height, channels, box, dst, off, size, size, flip);
}

/** Apply `spec`'s geometry to one image, writing size x size x channels bytes at dst[off]. */
export function applyGeometry(
  img: Pixels,
  spec: TransformSpec,
  rng: Rng,
  dst: Uint8Array,
  off: number,
): void {
  const { size } = spec;
  const full: Box = { x0: 0, y0: 0, x1: img.width, y1: img.height };
  switch (spec.kind) {
    case 'stretch':
      place(img, full, size, dst, off, false);
      return;
    case 'center':
      place(img, centerBox(img.width, img.height, size, spec.cropPct), size, dst, off, false);
      return;
    case 'rrc': {
      const box = rrcBox(img.width, img.height, spec.scale, spec.ratio, rng);
      place(img, box, size, dst, off, spec.flip && rng.uniform() < 0.5);
      return;
    }
    case 'cifar': {
      let src = img;
      if (img.width !== size || img.height !== size) {
        const data = new Uint8Array(size * size * img.channels);
        place(img, full, size, data, 0, false);
        src = { data, width: size, height: size, channels: img.channels };
      }
      const dx = rng.int(2 * spec.pad + 1) - spec.pad;
      const dy = rng.int(2 * spec.pad + 1) - spec.pad;
      const flip = spec.flip && rng.uniform() < 0.5;
      cropInto(src.data, size, size, src.channels, dx, dy, dst, off, size, size, flip);
      return;
    }
  }
}

/** Pixels of a raw sample (no decoding); the byte count must match its shape. */
function rawPixels(bytes: Uint8Array, s: SampleRef & { raw: RawShape }): Pixels {
  const { width, height, channels } = s.raw;
  if (bytes.length !== width * height * channels)
    throw new Error(`expected ${width}x${height}x${channels} bytes`);
  return { data: bytes, width, height, channels };
}

async function samplePixels(s: SampleRef, spec: TransformSpec): Promise<Pixels> {
  let bytes: Uint8Array;
  try {
    bytes = sampleBytes(s);
  } catch (err) {
    throw Object.assign(new Error(errorMessage(err)), { reason: 'unreadable_file' });
  }
  return s.raw ? rawPixels(bytes, { ...s, raw: s.raw }) : decode(bytes, spec);
}

/** Run `fn` over `items` with at most `limit` calls in flight. */
async function forEachLimit<T>(
  items: T[],
  limit: number,
  fn: (item: T, i: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i], i);
    }
  });
  await Promise.all(lanes);
}

/**
 * Decode and transform every sample of `job` into one NHWC buffer. Bad samples are left
 * out (the batch gets shorter) and reported in `skips`; labels are never touched.
 */
export async function buildBatch(job: BatchJob, concurrency: number): Promise<BatchOut> {
  const { spec, samples } = job;
  const per = spec.size * spec.size * spec.channels;
  const x = new Uint8Array(samples.length * per);
  const ok = new Uint8Array(samples.length);
  const skips: Skip[] = [];
  const notes: Note[] = [];
  const fail = (s: SampleRef, err: unknown) => {
    const reason = (err as { reason?: Skip['reason'] }).reason ?? 'corrupt_image';
    skips.push({ reason, where: s.where, detail: errorMessage(err) });
  };
  const place = (s: (typeof samples)[number], i: number, img: Pixels) => {
    if (img.channels !== spec.channels)
      throw new Error(`has ${img.channels} channels, expected ${spec.channels}`);
    applyGeometry(img, spec, new Rng(seedFrom(job.seed, s.index)), x, i * per);
    ok[i] = 1;
    if (img.warning) notes.push({ reason: 'decode_warning', where: s.where, detail: img.warning });
  };
  if (samples.every((s) => s.skip || (s.raw && s.bytes))) {
    // In-memory raw pixels (MNIST, CIFAR-10): all synchronous, no promise per sample.
    for (const [i, s] of samples.entries()) {
      if (s.skip) {
        skips.push(s.skip);
        continue;
      }
      try {
        place(s, i, rawPixels(s.bytes!, { ...s, raw: s.raw! }));
      } catch (err) {
        fail(s, err);
      }
    }
  } else {
    await forEachLimit(samples, concurrency, async (s, i) => {
      if (s.skip) return void skips.push(s.skip);
      try {
        place(s, i, await samplePixels(s, spec));
      } catch (err) {
        if (err instanceof DataError) throw err;
        fail(s, err);
      }
    });
  }
  const y = new Int32Array(samples.length);
  let n = 0;
  for (let i = 0; i < samples.length; i++) {
    if (!ok[i]) continue;
    if (n !== i) x.copyWithin(n * per, i * per, (i + 1) * per);
    y[n++] = samples[i].label;
  }
  return { x: x.subarray(0, n * per), y: y.subarray(0, n), n, skips, notes };
}
