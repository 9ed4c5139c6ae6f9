import type { z } from 'zod';
import type { Problem } from './errors.js';
import { didYouMean } from './suggest.js';
import { type KeyLocs, type KeyPath, pathKey } from './yaml-source.js';

type AnySchema = { _zod: { def: Record<string, any> } };

/** Strip default/prefault/optional/nullable wrappers down to the structural schema. */
function unwrap(schema: AnySchema): AnySchema {
  let s = schema;
  for (let i = 0; i < 20; i++) {
    const def = s._zod.def;
    if (
      def.innerType &&
      ['default', 'prefault', 'optional', 'nullable', 'readonly', 'catch'].includes(def.type)
    ) {
      s = def.innerType;
    } else if (def.type === 'pipe' && def.in) {
      s = def.in;
    } else break;
  }
  return s;
}

/** The keys an object schema accepts at `path` (empty when it isn't an object there). */
export function knownKeys(schema: AnySchema, path: KeyPath): string[] {
  let s = unwrap(schema);
  for (const k of path) {
    const def = s._zod.def;
    if (def.type === 'object' && typeof k === 'string' && def.shape[k]) s = unwrap(def.shape[k]);
    else if (def.type === 'array' && typeof k === 'number') s = unwrap(def.element);
    else return [];
  }
  const def = s._zod.def;
  return def.type === 'object' ? Object.keys(def.shape) : [];
}

export function valueAt(root: unknown, path: KeyPath): unknown {
  let cur: any = root;
  for (const k of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = cur[k as any];
  }
  return cur;
}

/** How a value is shown in a message: `'abc'`, `12`, `a list`, `a mapping`, `null`. */
export function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (typeof v === 'string') return `'${v}'`;
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return String(v);
}

const TYPE_NAMES: Record<string, string> = {
  number: 'a number',
  int: 'an integer',
  string: 'a string',
  boolean: 'true or false',
  object: 'a mapping',
  array: 'a list',
  null: 'null',
};

/** What an issue expected, as words (without the "got" part). */
function expectation(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return TYPE_NAMES[issue.expected] ?? issue.expected;
    case 'invalid_value':
      return issue.values.length === 1
        ? describeValue(issue.values[0])
        : `one of ${issue.values.map(describeValue).join(', ')}`;
    case 'too_small':
    case 'too_big': {
      const op = issue.code === 'too_small' ? (issue.inclusive ? '>=' : '>') : issue.inclusive ? '<=' : '<';
      const bound = issue.code === 'too_small' ? issue.minimum : issue.maximum;
      return issue.origin === 'number' || issue.origin === 'int'
        ? `a number ${op} ${bound}`
        : `${issue.origin} with length ${op} ${bound}`;
    }
    case 'invalid_union': {
      const alts = issue.errors.map((branch) => branch.map(expectation).join(' and '));
      return [...new Set(alts)].join(' or ');
    }
    default:
      return issue.message.replace(/^Invalid input: /, '');
  }
}

/**
 * Turn zod issues into problems located in the source: unknown keys point at the key
 * (with a "did you mean"), bad values at the value, missing keys at the enclosing section.
 */
export function issuesToProblems(
  issues: readonly z.core.$ZodIssue[],
  input: unknown,
  locs: Map<string, KeyLocs>,
  schema: AnySchema,
  extraTopKeys: readonly string[] = [],
): Problem[] {
  const locate = (path: KeyPath, useKey: boolean) => {
    for (let n = path.length; n >= 0; n--) {
      const l = locs.get(pathKey(path.slice(0, n)));
      if (l) return (useKey && n === path.length ? l.key : undefined) ?? l.value;
    }
    return undefined;
  };
  const problems: Problem[] = [];
  for (const issue of issues) {
    const path = issue.path as KeyPath;
    if (issue.code === 'unrecognized_keys') {
      const known = [...knownKeys(schema, path), ...(path.length === 0 ? extraTopKeys : [])];
      for (const k of issue.keys) {
        const guess = didYouMean(k, known);
        const hint = guess ? ` (did you mean '${guess}'?)` : ` (expected one of: ${known.join(', ')})`;
        problems.push({
          loc: locate([...path, k], true),
          key: pathKey([...path, k]),
          message: `unknown key${hint}`,
        });
      }
      continue;
    }
    const value = valueAt(input, path);
    const got = value === undefined ? 'it is missing' : `got ${describeValue(value)}`;
    const custom = issue.code === 'custom' || issue.code === 'invalid_format';
    const expected =
      custom && issue.message.startsWith('expected') ? issue.message : `expected ${expectation(issue)}`;
    problems.push({
      loc: locate(path, value === undefined),
      key: pathKey(path),
      message: `${expected}, ${got}`,
    });
  }
  return problems;
}
