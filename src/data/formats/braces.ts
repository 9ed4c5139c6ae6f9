/**
 * Brace expansion for shard patterns, as webdataset and the TPU converters write them:
 * `train-{000000..001281}.tar` (zero-padded numeric range, inclusive) and `{a,b}` lists,
 * nested or several per pattern.
 */
import { DataError } from '../errors.js';

export function expandBraces(pattern: string): string[] {
  const open = pattern.indexOf('{');
  if (open < 0) return [pattern];
  let depth = 0;
  let close = -1;
  for (let i = open; i < pattern.length; i++) {
    if (pattern[i] === '{') depth++;
    else if (pattern[i] === '}' && --depth === 0) {
      close = i;
      break;
    }
  }
  if (close < 0) throw new DataError(`shard pattern '${pattern}': unmatched '{'`);
  const head = pattern.slice(0, open);
  const body = pattern.slice(open + 1, close);
  const tails = expandBraces(pattern.slice(close + 1));
  const out: string[] = [];
  for (const alt of alternatives(body, pattern)) {
    for (const mid of expandBraces(alt)) for (const tail of tails) out.push(head + mid + tail);
  }
  return out;
}

/** The choices inside one pair of braces: a numeric range or a comma list (top-level commas only). */
function alternatives(body: string, pattern: string): string[] {
  const range = /^(\d+)\.\.(\d+)$/.exec(body);
  if (range) {
    const [a, b] = [Number(range[1]), Number(range[2])];
    if (b < a) throw new DataError(`shard pattern '${pattern}': range {${body}} goes backwards`);
    if (b - a > 10_000_000) throw new DataError(`shard pattern '${pattern}': range {${body}} is too large`);
    // Zero padding: as wide as the widest written bound when either is written with leading zeros.
    const padded = range[1].startsWith('0') || range[2].startsWith('0');
    const width = padded ? Math.max(range[1].length, range[2].length) : 0;
    return Array.from({ length: b - a + 1 }, (_, i) => String(a + i).padStart(width, '0'));
  }
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < body.length; i++) {
    if (body[i] === '{') depth++;
    else if (body[i] === '}') depth--;
    else if (body[i] === ',' && depth === 0) {
      parts.push(body.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(body.slice(start));
  if (parts.length < 2)
    throw new DataError(`shard pattern '${pattern}': {${body}} is neither a range a..b nor a list a,b`);
  return parts;
}
