/**
 * Compressed shards, told by their first bytes: gzip (`.tar.gz`, TFRecord GZIP) and zlib
 * (TFRecord ZLIB). Only the start is inflated here, to see what the stream holds.
 */
import { constants, gunzipSync, inflateSync } from 'node:zlib';

export type Compression = 'gzip' | 'zlib';

/** Whether bytes start with the gzip magic (1f 8b). */
export const isGzip = (head: Uint8Array): boolean => head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;

/** Whether bytes start with a zlib stream header (RFC 1950): deflate, and the check bits. */
export const isZlib = (head: Uint8Array): boolean =>
  head.length >= 2 && (head[0] & 0x0f) === 8 && ((head[0] << 8) | head[1]) % 31 === 0;

/**
 * The first bytes a compressed stream holds, from the first few KiB of the file (a sync
 * flush inflates a cut stream as far as it goes); null when that start is corrupt.
 */
export function inflateHead(head: Uint8Array, compression: Compression): Buffer | null {
  const opts = { finishFlush: constants.Z_SYNC_FLUSH };
  try {
    const start = head.subarray(0, 4096);
    return compression === 'gzip' ? gunzipSync(start, opts) : inflateSync(start, opts);
  } catch {
    return null;
  }
}
