/**
 * Brace expansion for shard patterns, as webdataset and the TPU converters write them:
 * `train-{000000..001281}.tar` (numeric range, inclusive, zero-padded as written) and `{a,b}` lists,
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
    // Zero padding as bash and Python's braceexpand do it: only when a bound is written with a
    // leading zero (`{000..146}`, `{00..10}`), then as wide as the widest bound; a bare `0`
    // is not padding (`{0..10}` -> 0, 1, ..., 10).
    const padded = /^0\d/.test(range[1]) || /^0\d/.test(range[2]);
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
