/**
 * The checkpoint file format (`.wtc`), one self-describing file:
 *
 *   bytes 0-7     magic "WTCKPT02"
 *   bytes 8-11    header length H (uint32 LE)
 *   bytes 12-15   CRC-32C of the header bytes (uint32 LE)
 *   16 .. 16+H    header: UTF-8 JSON {version, created, tensors: [{name, dtype, shape, offset, bytes, crc32c}],
 *                 scalars, runner}
 *   padding       zeros up to a multiple of 8
 *   blobs         each tensor's raw little-endian data (float32 or int32) at `offset` from here, 8-aligned
 *
 * Readers check the header CRC and every tensor's CRC, so a truncated or damaged file
 * is refused (it can't be half-written: files are renamed into place when complete).
 */
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { crc32c } from '../data/formats/crc32c.js';
import { UserError } from '../util/errors.js';

export const MAGIC = 'WTCKPT02';
export const FORMAT_VERSION = 2;
const PRE = 16;

export type RawDtype = 'float32' | 'int32';

export interface RawTensor {
  dtype: RawDtype;
  shape: number[];
  data: Float32Array | Int32Array;
}

export interface CheckpointContent<R> {
  tensors: Record<string, RawTensor>;
  /** The trainer's scalars (steps, RNG counters...). */
  scalars: Record<string, number>;
  /** The runner's position and bookkeeping. */
  runner: R;
}

interface TensorEntry {
  name: string;
  dtype: RawDtype;
  shape: number[];
  offset: number;
  bytes: number;
  crc32c: number;
}

/** A file that is not a wtrain checkpoint, or one whose checks fail: the user's data, exit 2. */
export class CheckpointFormatError extends UserError {}

const align8 = (n: number) => Math.ceil(n / 8) * 8;
const bytesOf = (t: RawTensor) => new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);

/** Serialise to the chunks of one file. */
export function encodeCheckpoint<R>(c: CheckpointContent<R>): Uint8Array[] {
  const entries: TensorEntry[] = [];
  let offset = 0;
  for (const [name, t] of Object.entries(c.tensors)) {
    const bytes = bytesOf(t);
    entries.push({
      name,
      dtype: t.dtype,
      shape: t.shape,
      offset,
      bytes: bytes.length,
      crc32c: crc32c(bytes),
    });
    offset = align8(offset + bytes.length);
  }
  const header = Buffer.from(
    JSON.stringify({
      version: FORMAT_VERSION,
      created: new Date().toISOString(),
      tensors: entries,
      scalars: c.scalars,
      runner: c.runner,
    }),
  );
  const pre = Buffer.alloc(align8(PRE + header.length));
  pre.write(MAGIC, 0, 'latin1');
  pre.writeUInt32LE(header.length, 8);
  pre.writeUInt32LE(crc32c(header), 12);
  header.copy(pre, PRE);
  const chunks: Uint8Array[] = [pre];
  for (const e of entries) {
    chunks.push(bytesOf(c.tensors[e.name]));
    const pad = align8(e.bytes) - e.bytes;
    if (pad > 0) chunks.push(new Uint8Array(pad));
  }
  return chunks;
}

function parseHeader(pre: Buffer, header: Buffer, name: string): any {
  if (pre.toString('latin1', 0, 8) !== MAGIC)
    throw new CheckpointFormatError(`${name}: not a wtrain checkpoint (v${FORMAT_VERSION})`);
  if (header.length !== pre.readUInt32LE(8) || crc32c(header) !== pre.readUInt32LE(12)) {
    throw new CheckpointFormatError(`${name}: corrupt header`);
  }
  return JSON.parse(header.toString('utf8'));
}

export function decodeCheckpoint<R>(bytes: Uint8Array, name = 'checkpoint'): CheckpointContent<R> {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < PRE) throw new CheckpointFormatError(`${name}: truncated`);
  const hlen = buf.readUInt32LE(8);
  const header = parseHeader(buf.subarray(0, PRE), buf.subarray(PRE, PRE + hlen), name);
  const dataStart = align8(PRE + hlen);
  const tensors: Record<string, RawTensor> = {};
  for (const e of header.tensors as TensorEntry[]) {
    // A fresh copy: aligned for the typed array, independent of the file buffer.
    const raw = new Uint8Array(buf.subarray(dataStart + e.offset, dataStart + e.offset + e.bytes));
    if (raw.length !== e.bytes || crc32c(raw) !== e.crc32c) {
      throw new CheckpointFormatError(`${name}: tensor ${e.name} is corrupt or truncated`);
    }
    const data = e.dtype === 'int32' ? new Int32Array(raw.buffer) : new Float32Array(raw.buffer);
    tensors[e.name] = { dtype: e.dtype, shape: e.shape, data };
  }
  return { tensors, scalars: header.scalars, runner: header.runner };
}

export function readCheckpointFile<R>(file: string): CheckpointContent<R> {
  return decodeCheckpoint<R>(readFileSync(file), file);
}

/** Just the header (scalars and runner state), without reading the tensor data. */
export function readCheckpointHeader<R>(file: string): { scalars: Record<string, number>; runner: R } {
  const fd = openSync(file, 'r');
  try {
    const pre = Buffer.alloc(PRE);
    readSync(fd, pre, 0, PRE, 0);
    if (pre.toString('latin1', 0, 8) !== MAGIC)
      throw new CheckpointFormatError(`${file}: not a wtrain checkpoint`);
    const header = Buffer.alloc(pre.readUInt32LE(8));
    readSync(fd, header, 0, header.length, PRE);
    const h = parseHeader(pre, header, file);
    return { scalars: h.scalars, runner: h.runner };
  } finally {
    closeSync(fd);
  }
}
