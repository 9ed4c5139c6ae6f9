/**
 * Tar shards: a header walk with positioned reads that skips member data (used to count
 * webdataset samples at start-up without reading the images) and the streamed reader
 * (tar-stream). Handles ustar prefixes, GNU long names and pax `path` records.
 *
 * Gzip-compressed shards (`.tar.gz`, `.tgz`; told by the gzip magic, not the name) are
 * read through zlib's gunzip stream: reading is sequential anyway, only counting loses
 * its shortcut (the whole shard is decompressed once to list its headers).
 */
import { open } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import tar from 'tar-stream';
import { DataError, errorMessage } from '../errors.js';
import { inflateHead, isGzip } from './compression.js';

export interface TarMember {
  name: string;
  size: number;
}

const BLOCK = 512;

function cstring(buf: Buffer, start: number, end: number): string {
  const nul = buf.indexOf(0, start);
  return buf.toString('utf8', start, nul >= start && nul < end ? nul : end);
}

function octal(buf: Buffer, start: number, end: number): number {
  // GNU base-256 for sizes >= 8 GiB: high bit of the first byte set.
  if (buf[start] & 0x80) {
    let v = 0;
    for (let i = start + 1; i < end; i++) v = v * 256 + buf[i];
    return v;
  }
  const s = cstring(buf, start, end).trim();
  return s === '' ? 0 : Number.parseInt(s, 8);
}

function checksumOk(h: Buffer): boolean {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : h[i];
  return sum === octal(h, 148, 156);
}

/** `path=` from pax extended header records (`<len> key=value\n`...). */
function paxPath(data: Buffer): string | undefined {
  let pos = 0;
  while (pos < data.length) {
    const space = data.indexOf(32, pos);
    const len = Number.parseInt(data.toString('utf8', pos, space), 10);
    if (!(len > 0)) return undefined;
    const rec = data.toString('utf8', space + 1, pos + len - 1);
    if (rec.startsWith('path=')) return rec.slice(5);
    pos += len;
  }
  return undefined;
}

const isRegular = (type: string | null | undefined) => type === 'file' || type === 'contiguous-file';

/** Whether bytes start with a tar header: the ustar magic, or (old v7 tars) a valid header checksum. */
export function looksLikeTar(head: Uint8Array): boolean {
  if (head.length < BLOCK) return false;
  const h = Buffer.from(head.buffer, head.byteOffset, BLOCK);
  return h.toString('latin1', 257, 262) === 'ustar' || (!h.every((b) => b === 0) && checksumOk(h));
}

/**
 * Whether a shard is gzip-compressed, from its first bytes. A file that is neither a tar nor
 * a gzip-compressed tar is an error naming it: tar-stream would call it damaged and the
 * whole shard would be skipped (or counted as 0 samples) with no hint why.
 */
function sniffShard(file: string, head: Buffer): boolean {
  if (isGzip(head)) {
    const inner = inflateHead(head, 'gzip');
    // A corrupt or very short gzip start is left to the reader (a damaged shard, skipped and logged).
    if (inner && inner.length >= BLOCK && !looksLikeTar(inner)) {
      throw new DataError(`shard ${file} is gzip-compressed but holds no tar archive`);
    }
    return true;
  }
  // Shorter than a header: a cut archive, left to the reader. An all-zero block: an empty archive.
  if (head.length < BLOCK || looksLikeTar(head) || head.subarray(0, BLOCK).every((b) => b === 0))
    return false;
  throw new DataError(`shard ${file} is not a tar archive (no tar header at its start)`);
}

async function openFile(file: string) {
  try {
    return await open(file, 'r');
  } catch (err) {
    throw new DataError(`cannot open shard ${file}: ${errorMessage(err)}`);
  }
}

async function readStart(file: string, fh: Awaited<ReturnType<typeof open>>): Promise<Buffer> {
  const head = Buffer.alloc(8 * BLOCK);
  try {
    const { bytesRead } = await fh.read(head, 0, head.length, 0);
    return head.subarray(0, bytesRead);
  } catch (err) {
    throw new DataError(`cannot read shard ${file}: ${errorMessage(err)}`);
  }
}

export interface TarStream {
  /** tar-stream's extractor, fed from the file (gunzipped when `gzip`); errors from either end it. */
  extract: tar.Extract;
  gzip: boolean;
  close(): void;
}

/** A shard streamed through tar-stream, through zlib's gunzip when it is gzip-compressed. */
export async function openTar(file: string): Promise<TarStream> {
  const fh = await openFile(file);
  let gzip: boolean;
  try {
    gzip = sniffShard(file, await readStart(file, fh));
  } catch (err) {
    await fh.close();
    throw err;
  }
  // The stream owns the handle from here on (autoClose): destroying it closes the file.
  const input = fh.createReadStream({ start: 0, highWaterMark: 1 << 20 });
  const extract = tar.extract();
  input.on('error', (err) => extract.destroy(err));
  const gunzip = gzip ? createGunzip() : null;
  if (gunzip) {
    gunzip.on('error', (err) => extract.destroy(new Error(`gzip: ${errorMessage(err)}`)));
    input.pipe(gunzip).pipe(extract);
  } else input.pipe(extract);
  return {
    extract,
    gzip,
    close() {
      input.destroy();
      gunzip?.destroy();
      extract.destroy();
    },
  };
}

/** `listTar` for a gzip-compressed shard: the same members, from a full streamed pass. */
async function listTarStream(file: string): Promise<{ members: TarMember[]; complete: boolean }> {
  const { extract, close } = await openTar(file);
  const members: TarMember[] = [];
  try {
    for await (const entry of extract) {
      let size = 0;
      for await (const chunk of entry as AsyncIterable<Buffer>) size += chunk.length;
      // Listed only once its data is all there, as the positioned walk does.
      if (isRegular(entry.header.type)) members.push({ name: entry.header.name, size });
    }
    return { members, complete: true };
  } catch {
    return { members, complete: false };
  } finally {
    close();
  }
}

/**
 * The regular files of a tar archive, in order, as far as the archive is intact: a
 * truncated archive or a damaged header ends the listing (`complete` tells which).
 * A file that is not a tar archive is an error naming it.
 */
export async function listTar(file: string): Promise<{ members: TarMember[]; complete: boolean }> {
  const fh = await openFile(file);
  try {
    if (sniffShard(file, await readStart(file, fh))) return await listTarStream(file);
    const size = (await fh.stat()).size;
    const h = Buffer.alloc(BLOCK);
    const members: TarMember[] = [];
    let offset = 0;
    let longName: string | undefined;
    while (offset + BLOCK <= size) {
      await fh.read(h, 0, BLOCK, offset);
      if (h.every((b) => b === 0)) return { members, complete: true };
      if (!checksumOk(h)) return { members, complete: false };
      const memberSize = octal(h, 124, 136);
      const dataStart = offset + BLOCK;
      const next = dataStart + Math.ceil(memberSize / BLOCK) * BLOCK;
      if (dataStart + memberSize > size) return { members, complete: false };
      const type = String.fromCharCode(h[156] || 48);
      if (type === 'L' || type === 'x') {
        const data = Buffer.alloc(memberSize);
        await fh.read(data, 0, memberSize, dataStart);
        longName = type === 'L' ? cstring(data, 0, memberSize) : (paxPath(data) ?? longName);
      } else {
        if (type === '0' || type === '7') {
          const prefix = h.toString('latin1', 257, 262) === 'ustar' ? cstring(h, 345, 500) : '';
          const name = longName ?? (prefix ? `${prefix}/${cstring(h, 0, 100)}` : cstring(h, 0, 100));
          members.push({ name, size: memberSize });
        }
        longName = undefined;
      }
      offset = next;
    }
    // Ran out of file without the end-of-archive blocks: intact only if nothing is missing.
    return { members, complete: offset === size };
  } finally {
    await fh.close();
  }
}
