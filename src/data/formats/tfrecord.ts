/**
 * TFRecord framing: each record is
 *   uint64 length (LE) | uint32 masked CRC32C of those 8 bytes | data | uint32 masked CRC32C of data.
 * The reader streams a file through one reusable buffer; the writer exists so tests (and
 * users) can make shards.
 *
 * TensorFlow's two compression options (TFRecordOptions GZIP and ZLIB: the whole file is one
 * gzip or zlib stream) are told from the first bytes, not the name, and inflated on the fly:
 * reading is sequential anyway; counting then costs a full decompression of the shard, and
 * record offsets in logs are offsets in the uncompressed stream.
 */
import { type FileHandle, open, writeFile } from 'node:fs/promises';
import { createGunzip, createInflate } from 'node:zlib';
import { DataError, errorMessage, type Skip, where } from '../errors.js';
import { type Compression, inflateHead, isGzip, isZlib } from './compression.js';
import { maskedCrc32c } from './crc32c.js';

/** One record: its data, or why it is unusable (`skip`). */
export interface RawRecord {
  offset: number;
  data?: Uint8Array;
  skip?: Skip;
}

const HEADER = 12;
const MAX_RECORD = 1 << 30;

async function openShard(file: string): Promise<FileHandle> {
  try {
    return await open(file, 'r');
  } catch (err) {
    throw new DataError(`cannot open shard ${file}: ${errorMessage(err)}`);
  }
}

interface ByteReader {
  /** n bytes, fewer only where the data ends. */
  take(n: number): Promise<Uint8Array>;
  /** Why the data ended early, when a compressed stream broke (truncated, corrupt). */
  readonly error?: string;
}

/** Sequential reads of a file through one growing buffer. */
class BufferedReader implements ByteReader {
  private buf = Buffer.alloc(0);
  private start = 0;
  private end = 0;
  private filePos = 0;

  constructor(
    private readonly fh: FileHandle,
    private readonly chunk = 4 << 20,
  ) {}

  async take(n: number): Promise<Uint8Array> {
    if (this.end - this.start < n) await this.fill(n);
    const got = Math.min(n, this.end - this.start);
    const view = this.buf.subarray(this.start, this.start + got);
    this.start += got;
    return view;
  }

  private async fill(n: number): Promise<void> {
    const have = this.end - this.start;
    const next = Buffer.allocUnsafe(Math.max(this.chunk, n));
    this.buf.copy(next, 0, this.start, this.end);
    this.buf = next;
    this.start = 0;
    this.end = have;
    while (this.end < n) {
      const { bytesRead } = await this.fh.read(this.buf, this.end, this.buf.length - this.end, this.filePos);
      if (bytesRead === 0) break;
      this.end += bytesRead;
      this.filePos += bytesRead;
    }
  }
}

/** Sequential reads of a stream's chunks (a decompressed shard); a stream error ends the data. */
class StreamReader implements ByteReader {
  private pending: Buffer = Buffer.alloc(0);
  private done = false;
  error?: string;

  constructor(private readonly chunks: AsyncIterator<Buffer>) {}

  async take(n: number): Promise<Uint8Array> {
    const parts = [this.pending];
    let have = this.pending.length;
    while (have < n && !this.done) {
      try {
        const r = await this.chunks.next();
        if (r.done) this.done = true;
        else {
          parts.push(r.value);
          have += r.value.length;
        }
      } catch (err) {
        this.done = true;
        this.error = errorMessage(err);
      }
    }
    const all = parts.length === 1 ? parts[0] : Buffer.concat(parts);
    this.pending = all.subarray(Math.min(n, all.length));
    return all.subarray(0, Math.min(n, all.length));
  }
}

function readLength(header: Uint8Array): number {
  const view = new DataView(header.buffer, header.byteOffset, HEADER);
  const len = view.getBigUint64(0, true);
  return len > BigInt(MAX_RECORD) ? -1 : Number(len);
}

/** Whether the 12-byte header's length CRC holds (when it doesn't, the framing of the rest is lost). */
function headerOk(header: Uint8Array): boolean {
  const view = new DataView(header.buffer, header.byteOffset, HEADER);
  return maskedCrc32c(header.subarray(0, 8)) === view.getUint32(8, true);
}

/** Whether bytes start with a TFRecord header: a plausible length whose CRC holds. */
export function looksLikeTfRecord(head: Uint8Array): boolean {
  return head.length >= HEADER && readLength(head) >= 0 && headerOk(head);
}

/**
 * How a file that starts with `head` is compressed: null when it is a plain TFRecord (or
 * nothing known). A valid plain header wins, so a record length that happens to look like a
 * zlib header is not misread.
 */
export function tfRecordCompression(head: Uint8Array): Compression | null {
  if (looksLikeTfRecord(head)) return null;
  if (isGzip(head)) return 'gzip';
  return isZlib(head) ? 'zlib' : null;
}

/**
 * Whether a file starting with `head` (its first few KiB) is a TFRecord file: plain, or
 * GZIP/ZLIB-compressed with a TFRecord header at the start of what it inflates to.
 */
export function sniffTfRecord(head: Uint8Array): { compression: Compression | null } | null {
  if (looksLikeTfRecord(head)) return { compression: null };
  const compression = tfRecordCompression(head);
  const inner = compression ? inflateHead(head, compression) : null;
  return inner && looksLikeTfRecord(inner) ? { compression } : null;
}

/** A reader over the file's records' bytes (inflated when compressed), and how to release it. */
async function openReader(
  fh: FileHandle,
): Promise<{ reader: ByteReader; compression: Compression | null; close(): void }> {
  const head = Buffer.alloc(HEADER);
  const { bytesRead } = await fh.read(head, 0, HEADER, 0);
  const compression = tfRecordCompression(head.subarray(0, bytesRead));
  if (!compression) return { reader: new BufferedReader(fh), compression, close() {} };
  // The handle stays ours (autoClose off): the caller closes it after the streams are gone.
  const input = fh.createReadStream({ start: 0, autoClose: false, highWaterMark: 1 << 20 });
  const inflate = compression === 'gzip' ? createGunzip() : createInflate();
  input.on('error', (err) => inflate.destroy(err));
  input.pipe(inflate);
  return {
    reader: new StreamReader(inflate[Symbol.asyncIterator]()),
    compression,
    close() {
      input.destroy();
      inflate.destroy();
    },
  };
}

interface ScanOptions {
  /** Check length CRCs (framing): as `verify_crc`. */
  verifyCrc: boolean;
  /** Reading: check data CRCs (as `verify_crc`) and yield the data. Counting needs neither: a bad record is still one unit. */
  read: boolean;
}

async function* scan(file: string, opts: ScanOptions): AsyncGenerator<RawRecord> {
  const fh = await openShard(file);
  let close = () => {};
  try {
    const opened = await openReader(fh);
    const { reader, compression } = opened;
    close = opened.close;
    /** Why the data ended: a broken compressed stream, or the file itself. */
    const cut = (what: string) =>
      reader.error ? `${what}: ${compression} stream broken (${reader.error})` : what;
    let offset = 0;
    for (;;) {
      const header = await reader.take(HEADER);
      const at = where(file, { offset });
      if (header.length === 0) {
        if (reader.error) {
          yield {
            offset,
            skip: { reason: 'truncated_shard', where: at, detail: cut('data ends at a record boundary') },
          };
        }
        return;
      }
      if (header.length < HEADER) {
        const detail = cut('file ends inside a record header');
        yield { offset, skip: { reason: 'truncated_shard', where: at, detail } };
        return;
      }
      const len = readLength(header);
      if (len < 0 || (opts.verifyCrc && !headerOk(header))) {
        const hint = offset === 0 ? ' (at the start of the file: is it a TFRecord file?)' : '';
        const detail = `record length CRC mismatch; rest of the shard skipped${hint}`;
        yield { offset, skip: { reason: 'bad_crc', where: at, detail } };
        return;
      }
      const body = await reader.take(len + 4);
      if (body.length < len + 4) {
        const detail = cut(`record of ${len} bytes cut short`);
        yield { offset, skip: { reason: 'truncated_shard', where: at, detail } };
        return;
      }
      const data = body.subarray(0, len);
      const crc = new DataView(body.buffer, body.byteOffset + len, 4).getUint32(0, true);
      if (!opts.read) yield { offset };
      else if (opts.verifyCrc && maskedCrc32c(data) !== crc) {
        yield { offset, skip: { reason: 'bad_crc', where: at, detail: 'record data CRC mismatch' } };
      } else {
        // A copy: the reader's buffer is reused (plain files) and the record outlives it.
        yield { offset, data: Buffer.from(data) };
      }
      offset += HEADER + len + 4;
    }
  } finally {
    close();
    await fh.close();
  }
}

/**
 * The records of one shard, in order. A bad data CRC skips that record; a bad length
 * CRC or a truncated record ends the shard (its framing can't be trusted past that point).
 */
export function readTfRecords(file: string, opts: { verifyCrc: boolean }): AsyncGenerator<RawRecord> {
  return scan(file, { verifyCrc: opts.verifyCrc, read: true });
}

/**
 * Number of records `readTfRecords` yields for this shard, reading only the headers
 * (framing problems end the count where they end the reader). A compressed shard is
 * inflated and walked by the reader itself, so the two cannot disagree.
 */
export async function countTfRecords(file: string, verifyCrc: boolean): Promise<number> {
  const fh = await openShard(file);
  try {
    const head = Buffer.alloc(HEADER);
    const { bytesRead } = await fh.read(head, 0, HEADER, 0);
    if (tfRecordCompression(head.subarray(0, bytesRead))) {
      let count = 0;
      for await (const _ of scan(file, { verifyCrc, read: false })) count++;
      return count;
    }
    const size = (await fh.stat()).size;
    const header = Buffer.alloc(HEADER);
    let offset = 0;
    let count = 0;
    while (offset < size) {
      const { bytesRead } = await fh.read(header, 0, HEADER, offset);
      count++; // a truncated or corrupt record is still one (skipped) unit of the stream
      if (bytesRead < HEADER) break;
      const len = readLength(header);
      if (len < 0 || (verifyCrc && !headerOk(header)) || offset + HEADER + len + 4 > size) break;
      offset += HEADER + len + 4;
    }
    return count;
  } finally {
    await fh.close();
  }
}

/** One framed record. */
export function frameRecord(data: Uint8Array): Buffer {
  const out = Buffer.alloc(HEADER + data.length + 4);
  out.writeBigUInt64LE(BigInt(data.length), 0);
  out.writeUInt32LE(maskedCrc32c(out.subarray(0, 8)), 8);
  out.set(data, HEADER);
  out.writeUInt32LE(maskedCrc32c(data), HEADER + data.length);
  return out;
}

/** Write a TFRecord shard holding `records` (each already serialised, e.g. by encodeExample). */
export async function writeTfRecordFile(file: string, records: Iterable<Uint8Array>): Promise<void> {
  await writeFile(file, Buffer.concat(Array.from(records, frameRecord)));
}
