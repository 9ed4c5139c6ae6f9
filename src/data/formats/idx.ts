/**
 * The idx format of MNIST/Fashion-MNIST: a big-endian magic (0x0000, element type,
 * number of dims), one uint32 per dim, then the elements. Files may be gzipped.
 */
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { DataError, errorMessage } from '../errors.js';

const gunzipAsync = promisify(gunzip);
const UBYTE = 0x08;

export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

/** Read an idx file of unsigned bytes (gzipped or not, told apart by the gzip magic). */
export async function readIdx(file: string): Promise<IdxArray> {
  let buf: Buffer;
  try {
    buf = await readFile(file);
    if (buf[0] === 0x1f && buf[1] === 0x8b) buf = await gunzipAsync(buf);
  } catch (err) {
    throw new DataError(`cannot read ${file}: ${errorMessage(err)}`);
  }
  return parseIdx(buf, file);
}

export function parseIdx(buf: Uint8Array, file: string): IdxArray {
  const bad = (what: string) => new DataError(`${file}: not an idx file of unsigned bytes (${what})`);
  if (buf.length < 4 || buf[0] !== 0 || buf[1] !== 0) throw bad('magic must start with two zero bytes');
  if (buf[2] !== UBYTE) throw bad(`element type 0x${buf[2].toString(16)}, expected 0x08`);
  const ndim = buf[3];
  const header = 4 + 4 * ndim;
  if (ndim < 1 || buf.length < header) throw bad(`${ndim} dimensions`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const dims = Array.from({ length: ndim }, (_, i) => view.getUint32(4 + 4 * i, false));
  const size = dims.reduce((a, b) => a * b, 1);
  if (buf.length < header + size) {
    throw new DataError(
      `${file}: truncated: header says ${dims.join('x')} bytes, file has ${buf.length - header}`,
    );
  }
  return { dims, data: buf.subarray(header, header + size) };
}
