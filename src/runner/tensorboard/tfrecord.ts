/**
 * TFRecord framing: uint64 length (LE), masked CRC-32C of the length bytes,
 * the payload, masked CRC-32C of the payload.
 */
import { maskedCrc32c } from '../../data/formats/crc32c.js';

export { frameRecord } from '../../data/formats/tfrecord.js';

/** Split a TFRecord file into payloads, checking both CRCs; throws on corruption. */
export function readRecords(data: Uint8Array): Uint8Array[] {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const records: Uint8Array[] = [];
  let off = 0;
  while (off < buf.length) {
    if (off + 12 > buf.length) throw new Error(`truncated record header at byte ${off}`);
    const len = Number(buf.readBigUInt64LE(off));
    if (buf.readUInt32LE(off + 8) !== maskedCrc32c(buf.subarray(off, off + 8))) {
      throw new Error(`bad length CRC at byte ${off}`);
    }
    const start = off + 12;
    if (start + len + 4 > buf.length) throw new Error(`truncated record at byte ${off}`);
    const payload = buf.subarray(start, start + len);
    if (buf.readUInt32LE(start + len) !== maskedCrc32c(payload))
      throw new Error(`bad data CRC at byte ${off}`);
    records.push(payload);
    off = start + len + 4;
  }
  return records;
}
