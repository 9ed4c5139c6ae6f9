/**
 * TFRecord framing: each record is
 *   uint64 length (LE) | uint32 masked CRC32C of those 8 bytes | data | uint32 masked CRC32C of data.
 * The reader streams a file through one reusable buffer; the writer exists so tests (and
 * users) can make shards.
 */
import { type FileHandle, open, writeFile } from 'node:fs/promises';
import { DataError, errorMessage, type Skip, where } from '../errors.js';
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

/** Sequential reads through one growing buffer; `take(n)` returns n bytes, fewer only at end of file. */
class BufferedReader {
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

/**
 * The records of one shard, in order. A bad data CRC skips that record; a bad length
 * CRC or a truncated record ends the shard (its framing can't be trusted past that point).
 */
export async function* readTfRecords(file: string, opts: { verifyCrc: boolean }): AsyncGenerator<RawRecord> {
  const fh = await openShard(file);
  try {
    const reader = new BufferedReader(fh);
    let offset = 0;
    for (;;) {
      const header = await reader.take(HEADER);
      if (header.length === 0) return;
      const at = where(file, { offset });
      if (header.length < HEADER) {
        yield {
          offset,
          skip: { reason: 'truncated_shard', where: at, detail: 'file ends inside a record header' },
        };
        return;
      }
      const len = readLength(header);
      if (len < 0 || (opts.verifyCrc && !headerOk(header))) {
        const detail = 'record length CRC mismatch; rest of the shard skipped';
        yield { offset, skip: { reason: 'bad_crc', where: at, detail } };
        return;
      }
      const body = await reader.take(len + 4);
      if (body.length < len + 4) {
        yield {
          offset,
          skip: { reason: 'truncated_shard', where: at, detail: `record of ${len} bytes cut short` },
        };
        return;
      }
      const data = body.subarray(0, len);
      const crc = new DataView(body.buffer, body.byteOffset + len, 4).getUint32(0, true);
      if (opts.verifyCrc && maskedCrc32c(data) !== crc) {
        yield { offset, skip: { reason: 'bad_crc', where: at, detail: 'record data CRC mismatch' } };
      } else {
        yield { offset, data: Buffer.from(data) };
      }
      offset += HEADER + len + 4;
    }
  } finally {
    await fh.close();
  }
}

/**
 * Number of records `readTfRecords` yields for this shard, reading only the headers
 * (framing problems end the count where they end the reader).
 */
export async function countTfRecords(file: string, verifyCrc: boolean): Promise<number> {
  const fh = await openShard(file);
  try {
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
