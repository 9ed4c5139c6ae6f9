/**
 * A minimal reader for MATLAB level-5 MAT-files (little-endian), enough for the ImageNet
 * devkit's `meta.mat`: numeric, char, cell and struct arrays, zlib-compressed or not.
 * Layout (MathWorks "MAT-File Format", ch. 1): a 128-byte header, then data elements,
 * each an 8-byte tag (type, byte count) or a 4-byte "small element" tag, padded to 8 bytes.
 */
import { inflateSync } from 'node:zlib';
import { DataError } from '../errors.js';

export type MatArray =
  | { kind: 'numeric'; dims: number[]; values: number[] }
  | { kind: 'char'; dims: number[]; text: string }
  | { kind: 'cell'; dims: number[]; cells: MatArray[] }
  | { kind: 'struct'; dims: number[]; fields: string[]; elements: Record<string, MatArray>[] }
  | { kind: 'unsupported'; dims: number[] };

const MI = { INT8: 1, UINT8: 2, INT16: 3, UINT16: 4, INT32: 5, UINT32: 6, SINGLE: 7, DOUBLE: 9 } as const;
const MI_INT64 = 12;
const MI_UINT64 = 13;
const MI_MATRIX = 14;
const MI_COMPRESSED = 15;
const MI_UTF8 = 16;
const MX = { CELL: 1, STRUCT: 2, CHAR: 4 } as const;

interface Element {
  type: number;
  data: Buffer;
  next: number;
}

function readElement(buf: Buffer, pos: number, file: string): Element {
  if (pos + 8 > buf.length) throw new DataError(`${file}: MAT-file element at byte ${pos} is cut short`);
  const first = buf.readUInt32LE(pos);
  if (first >>> 16 !== 0) {
    // Small data element: byte count in the upper 16 bits, data in the tag's second word.
    const n = first >>> 16;
    return { type: first & 0xffff, data: buf.subarray(pos + 4, pos + 4 + n), next: pos + 8 };
  }
  const n = buf.readUInt32LE(pos + 4);
  const start = pos + 8;
  if (start + n > buf.length) throw new DataError(`${file}: MAT-file element at byte ${pos} is cut short`);
  return { type: first, data: buf.subarray(start, start + n), next: start + Math.ceil(n / 8) * 8 };
}

function numbers(el: Element): number[] {
  const d = el.data;
  const read: Record<number, [number, (o: number) => number]> = {
    [MI.INT8]: [1, (o) => d.readInt8(o)],
    [MI.UINT8]: [1, (o) => d[o]],
    [MI.INT16]: [2, (o) => d.readInt16LE(o)],
    [MI.UINT16]: [2, (o) => d.readUInt16LE(o)],
    [MI.INT32]: [4, (o) => d.readInt32LE(o)],
    [MI.UINT32]: [4, (o) => d.readUInt32LE(o)],
    [MI.SINGLE]: [4, (o) => d.readFloatLE(o)],
    [MI.DOUBLE]: [8, (o) => d.readDoubleLE(o)],
    [MI_INT64]: [8, (o) => Number(d.readBigInt64LE(o))],
    [MI_UINT64]: [8, (o) => Number(d.readBigUInt64LE(o))],
  };
  const r = read[el.type];
  if (!r) return [];
  const [size, get] = r;
  return Array.from({ length: Math.floor(d.length / size) }, (_, i) => get(i * size));
}

function text(el: Element): string {
  if (el.type === MI.UINT16) return String.fromCharCode(...numbers(el));
  if (el.type === MI_UTF8 || el.type === MI.UINT8 || el.type === MI.INT8) return el.data.toString('utf8');
  return String.fromCharCode(...numbers(el));
}

function parseMatrix(buf: Buffer, file: string): MatArray {
  if (buf.length === 0) return { kind: 'numeric', dims: [0, 0], values: [] };
  const flags = readElement(buf, 0, file);
  const cls = flags.data[0];
  const dimsEl = readElement(buf, flags.next, file);
  const dims = numbers(dimsEl);
  const nameEl = readElement(buf, dimsEl.next, file);
  let pos = nameEl.next;
  const count = dims.reduce((a, b) => a * b, 1);
  const sub = () => {
    const el = readElement(buf, pos, file);
    pos = el.next;
    return el;
  };
  const matrix = () => {
    const el = sub();
    if (el.type !== MI_MATRIX)
      throw new DataError(`${file}: expected a matrix element, found type ${el.type}`);
    return parseMatrix(el.data, file);
  };
  if (cls === MX.CELL) return { kind: 'cell', dims, cells: Array.from({ length: count }, matrix) };
  if (cls === MX.STRUCT) {
    const nameLen = numbers(sub())[0];
    const namesEl = sub();
    const fields: string[] = [];
    for (let o = 0; o + nameLen <= namesEl.data.length; o += nameLen) {
      fields.push(namesEl.data.toString('latin1', o, o + nameLen).replace(/\0.*$/s, ''));
    }
    const elements = Array.from({ length: count }, () => {
      const rec: Record<string, MatArray> = {};
      for (const f of fields) rec[f] = matrix();
      return rec;
    });
    return { kind: 'struct', dims, fields, elements };
  }
  if (cls === MX.CHAR) return { kind: 'char', dims, text: text(sub()) };
  if (cls >= 6 && cls <= 15) return { kind: 'numeric', dims, values: numbers(sub()) };
  return { kind: 'unsupported', dims };
}

/** The named variables of a MAT-file. */
export function readMat(buf: Buffer, file: string): Map<string, MatArray> {
  if (buf.length < 128 || buf.toString('latin1', 126, 128) !== 'IM') {
    throw new DataError(`${file}: not a little-endian level-5 MAT-file (expected 'IM' at byte 126)`);
  }
  const vars = new Map<string, MatArray>();
  let pos = 128;
  while (pos + 8 <= buf.length) {
    let el = readElement(buf, pos, file);
    pos = el.next;
    if (el.type === MI_COMPRESSED) {
      let inflated: Buffer;
      try {
        inflated = inflateSync(el.data);
      } catch {
        throw new DataError(`${file}: a compressed MAT-file element does not inflate`);
      }
      el = readElement(inflated, 0, file);
    }
    if (el.type !== MI_MATRIX) continue;
    const name = variableName(el.data, file);
    vars.set(name, parseMatrix(el.data, file));
  }
  return vars;
}

function variableName(matrix: Buffer, file: string): string {
  if (matrix.length === 0) return '';
  const flags = readElement(matrix, 0, file);
  const dims = readElement(matrix, flags.next, file);
  return readElement(matrix, dims.next, file).data.toString('latin1');
}
