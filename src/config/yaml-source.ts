import { readFileSync } from 'node:fs';
import { isMap, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import { ConfigError, type Problem, type SourceLoc } from './errors.js';

/** Position of a key (where it is written) and of its value. */
export interface KeyLocs {
  key?: SourceLoc;
  value: SourceLoc;
}

/** A config document as plain data plus where each dotted key path came from. */
export interface Sourced {
  value: unknown;
  locs: Map<string, KeyLocs>;
}

export type KeyPath = (string | number)[];

export function pathKey(path: readonly PropertyKey[]): string {
  return path.map(String).join('.');
}

/** Parse YAML text, keeping the line:column of every key and value. Syntax errors throw a ConfigError. */
export function parseYamlSource(text: string, file: string): Sourced {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number): SourceLoc => ({ file, ...lineCounter.linePos(offset) });
  if (doc.errors.length > 0) {
    // The first error only: the parser reads what follows it differently from what was
    // meant, so the rest are mostly echoes of it (one tab gave three errors).
    const e = doc.errors[0];
    const problem: Problem = {
      loc: at(e.pos[0]),
      key: '',
      message: `YAML syntax error: ${e.message.split('\n')[0]}`,
    };
    throw new ConfigError([problem]);
  }
  const locs = new Map<string, KeyLocs>();
  const walk = (node: Node | null | undefined, path: KeyPath, keyLoc?: SourceLoc): void => {
    const value = node?.range ? at(node.range[0]) : (keyLoc ?? at(0));
    locs.set(pathKey(path), { key: keyLoc, value });
    if (isMap(node)) {
      for (const pair of node.items) {
        const k = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
        const kNode = pair.key as Node | null;
        walk(pair.value as Node | null, [...path, k], kNode?.range ? at(kNode.range[0]) : value);
      }
    } else if (isSeq(node)) {
      for (const [i, item] of node.items.entries()) walk(item as Node, [...path, i], value);
    }
  };
  walk(doc.contents as Node | null, []);
  return { value: doc.toJS({ maxAliasCount: 100 }) ?? {}, locs };
}

/** Read and parse a YAML file; a missing or unreadable file is a ConfigError naming it. */
export function readYamlSource(file: string, from?: { loc?: SourceLoc; key: string }): Sourced {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'file not found' : `cannot read (${code ?? String(err)})`;
    throw new ConfigError([{ loc: from?.loc ?? { file }, key: from?.key ?? '', message: `${why}: ${file}` }]);
  }
  return parseYamlSource(text, file);
}
