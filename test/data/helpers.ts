/**
 * Fixtures for the data tests, made at test time in temp folders: images (sharp), tar
 * shards (tar-stream), MAT-files (written here from the MAT-file spec, independently of
 * the reader), and access to the real data sets in ../shared/datasets when present.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { deflateSync } from 'node:zlib';
import sharp from 'sharp';
import tar from 'tar-stream';
import { type DataConfig, dataConfigSchema } from '../../src/data/config.js';
import type { Batch, BatchLoader, Split } from '../../src/data/types.js';

export const REPO = path.resolve(import.meta.dirname, '../..');
export const SHARED = path.resolve(REPO, '../shared/datasets');

/** A folder under ../shared/datasets, or skip the test (with a message) when it isn't there. */
export function shared(t: TestContext, sub: string): string | null {
  const p = path.join(SHARED, sub);
  if (existsSync(p)) return p;
  t.skip(`${p} not present (real data sets live in ../shared/datasets)`);
  return null;
}

export function tempDir(t: TestContext): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'wtrain-data-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export function config(over: Record<string, unknown>): DataConfig {
  return dataConfigSchema.parse({ workers: 0, ...over });
}

export interface ImageOptions {
  /** RGB fill; a horizontal gradient is added so flips and crops are visible. */
  rgb?: [number, number, number];
  format?: 'jpeg' | 'png';
  space?: 'srgb' | 'b-w' | 'cmyk';
  orientation?: number;
  alpha?: boolean;
}

/** Raw RGB test pattern: the given colour, red channel ramping left to right. */
export function pattern(w: number, h: number, rgb: [number, number, number] = [40, 120, 200]): Buffer {
  const px = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const o = (y * w + x) * 3;
      px[o] = Math.round((x / Math.max(1, w - 1)) * 255);
      px[o + 1] = rgb[1];
      px[o + 2] = rgb[2];
    }
  }
  return px;
}

export async function makeImage(w: number, h: number, o: ImageOptions = {}): Promise<Buffer> {
  let img = sharp(pattern(w, h, o.rgb), { raw: { width: w, height: h, channels: 3 } });
  if (o.alpha) img = img.ensureAlpha(0.5);
  if (o.space && o.space !== 'srgb') img = img.toColourspace(o.space);
  if (o.orientation) img = img.withMetadata({ orientation: o.orientation });
  return o.format === 'png' ? img.png().toBuffer() : img.jpeg({ quality: 95 }).toBuffer();
}

/** A JPEG cut in half: "premature end of JPEG". */
export async function truncatedJpeg(): Promise<Buffer> {
  const jpg = await makeImage(64, 48);
  return jpg.subarray(0, Math.floor(jpg.length / 2));
}

/**
 * A JPEG that libjpeg decodes with the warning "Corrupt JPEG data: 3 extraneous bytes
 * before marker 0xdb" (bytes slipped in between two header segments), as some ImageNet
 * files are: PIL and torchvision decode it.
 */
export async function jpegWithWarning(): Promise<Buffer> {
  const jpg = await makeImage(32, 24);
  const firstSegmentEnd = 4 + jpg.readUInt16BE(4); // SOI (2) + marker (2) + the segment's length
  return Buffer.concat([
    jpg.subarray(0, firstSegmentEnd),
    Buffer.from([0, 0x11, 0x22]),
    jpg.subarray(firstSegmentEnd),
  ]);
}

export function writeFiles(root: string, files: Record<string, Uint8Array | string>): void {
  for (const [name, data] of Object.entries(files)) {
    const p = path.join(root, name);
    mkdirSync(path.dirname(p), { recursive: true });
    writeFileSync(p, data);
  }
}

/** A tar archive of `entries`, in order. */
export async function tarBuffer(entries: { name: string; data: Uint8Array | string }[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = (async () => {
    for await (const c of pack as unknown as AsyncIterable<Buffer>) chunks.push(c);
  })();
  for (const e of entries) {
    await new Promise<void>((resolve, reject) =>
      pack.entry({ name: e.name }, Buffer.from(e.data), (err) => (err ? reject(err) : resolve())),
    );
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

// --- MAT-file v5 writer (MathWorks "MAT-File Format", ch. 1), little-endian ---

function element(type: number, data: Buffer): Buffer {
  const pad = (8 - (data.length % 8)) % 8;
  const tag = Buffer.alloc(8);
  tag.writeUInt32LE(type, 0);
  tag.writeUInt32LE(data.length, 4);
  return Buffer.concat([tag, data, Buffer.alloc(pad)]);
}

const MI_INT8 = 1;
const MI_UINT16 = 4;
const MI_INT32 = 5;
const MI_UINT32 = 6;
const MI_DOUBLE = 9;
const MI_MATRIX = 14;
const MI_COMPRESSED = 15;

function matrix(cls: number, dims: number[], name: string, body: Buffer[]): Buffer {
  const flags = Buffer.alloc(8);
  flags.writeUInt32LE(cls, 0);
  const d = Buffer.alloc(4 * dims.length);
  for (const [i, v] of dims.entries()) d.writeInt32LE(v, 4 * i);
  return element(
    MI_MATRIX,
    Buffer.concat([
      element(MI_UINT32, flags),
      element(MI_INT32, d),
      element(MI_INT8, Buffer.from(name, 'latin1')),
      ...body,
    ]),
  );
}

const matDouble = (v: number) => {
  const b = Buffer.alloc(8);
  b.writeDoubleLE(v);
  return matrix(6, [1, 1], '', [element(MI_DOUBLE, b)]);
};

const matChar = (s: string) => {
  const b = Buffer.alloc(2 * s.length);
  for (let i = 0; i < s.length; i++) b.writeUInt16LE(s.charCodeAt(i), 2 * i);
  return matrix(4, [1, s.length], '', [element(MI_UINT16, b)]);
};

/** A meta.mat like the ImageNet devkit's: struct array `synsets` (ILSVRC2012_ID, WNID, words), compressed. */
export function devkitMeta(synsets: { id: number; wnid: string; words: string }[]): Buffer {
  const fields = ['ILSVRC2012_ID', 'WNID', 'words'];
  const len = 32;
  const names = Buffer.alloc(len * fields.length);
  for (const [i, f] of fields.entries()) names.write(f, i * len, 'latin1');
  const nameLen = Buffer.alloc(4);
  nameLen.writeInt32LE(len);
  // Field name length is a "small data element": count in the upper half of the tag.
  const small = Buffer.alloc(8);
  small.writeUInt32LE((4 << 16) | MI_INT32, 0);
  nameLen.copy(small, 4);
  const values = synsets.flatMap((s) => [matDouble(s.id), matChar(s.wnid), matChar(s.words)]);
  const struct = matrix(2, [synsets.length, 1], 'synsets', [small, element(MI_INT8, names), ...values]);
  const header = Buffer.alloc(128, 32);
  header.write('MATLAB 5.0 MAT-file, written by the wtrain tests', 0, 'latin1');
  header.writeUInt16LE(0x0100, 124);
  header.write('IM', 126, 'latin1');
  return Buffer.concat([header, element(MI_COMPRESSED, deflateSync(struct))]);
}

/** Every batch of one epoch, copied (the loader may reuse nothing, but be safe). */
export async function collect(loader: BatchLoader, split: Split, epoch: number, start = 0): Promise<Batch[]> {
  const out: Batch[] = [];
  for await (const b of loader.epochBatches(split, epoch, start))
    out.push({ ...b, x: b.x.slice(), y: b.y.slice() });
  return out;
}

export const labelsOf = (batches: Batch[]) => batches.flatMap((b) => [...b.y]);

/** A logger that records warnings. */
export function recordingLogger() {
  const warnings: { obj: Record<string, unknown>; msg: string }[] = [];
  return {
    warnings,
    warn: (obj: object, msg: string) => void warnings.push({ obj: obj as Record<string, unknown>, msg }),
    info: () => {},
  };
}
