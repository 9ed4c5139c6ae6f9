/**
 * Walks a tar file's headers with positioned reads, skipping member data: used to count
 * webdataset samples at start-up without reading the images. (Streaming itself goes
 * through tar-stream.) Handles ustar prefixes, GNU long names and pax `path` records.
 */
import { open } from 'node:fs/promises';
import { DataError, errorMessage } from '../errors.js';

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

/**
 * The regular files of a tar archive, in order, as far as the archive is intact: a
 * truncated archive or a damaged header ends the listing (`complete` tells which).
 */
export async function listTar(file: string): Promise<{ members: TarMember[]; complete: boolean }> {
  let fh: Awaited<ReturnType<typeof open>>;
  try {
    fh = await open(file, 'r');
  } catch (err) {
    throw new DataError(`cannot open shard ${file}: ${errorMessage(err)}`);
  }
  try {
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
