import { parse as parseYaml } from 'yaml';
import { ConfigError, type SourceLoc } from './errors.js';
import { type KeyLocs, type KeyPath, pathKey, type Sourced } from './yaml-source.js';

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Deep-merge `over` onto `base`: mappings merge key by key; scalars and lists replace. */
export function mergeValues(base: unknown, over: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(over)) return over;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = k in base ? mergeValues(base[k], v) : v;
  return out;
}

/** Merge two sourced documents; locations of `over` win where both define a key. */
export function mergeSourced(base: Sourced, over: Sourced, prefix: KeyPath = []): Sourced {
  const locs = new Map<string, KeyLocs>(base.locs);
  const p = pathKey(prefix);
  for (const [k, v] of over.locs) {
    const key = p && k ? `${p}.${k}` : p || k;
    if (key !== '') locs.set(key, v); // the root stays located at the top-level file
  }
  const value =
    prefix.length === 0 ? mergeValues(base.value, over.value) : mergeAt(base.value, prefix, over.value);
  return { value, locs };
}

function mergeAt(base: unknown, path: KeyPath, over: unknown): unknown {
  if (path.length === 0) return mergeValues(base, over);
  const obj = isPlainObject(base) ? { ...base } : {};
  const [head, ...rest] = path;
  obj[String(head)] = mergeAt(obj[String(head)], rest, over);
  return obj;
}

/** A sourced value holding just `value` at `path`, every sub-key located at `loc`. */
export function sourcedAt(path: KeyPath, value: unknown, loc: SourceLoc): Sourced {
  const locs = new Map<string, KeyLocs>();
  for (let n = 1; n < path.length; n++) locs.set(pathKey(path.slice(0, n)), { key: loc, value: loc });
  const visit = (v: unknown, p: KeyPath): void => {
    if (p.length > 0) locs.set(pathKey(p), { key: loc, value: loc });
    if (isPlainObject(v)) for (const [k, x] of Object.entries(v)) visit(x, [...p, k]);
    else if (Array.isArray(v)) {
      for (const [i, x] of v.entries()) visit(x, [...p, i]);
    }
  };
  visit(value, path);
  let nested: unknown = value;
  for (const k of [...path].reverse()) nested = { [k]: nested };
  return { value: nested, locs };
}

/** How a `--set` override names its origin in locations (and in messages). */
export const SET_PREFIX = '--set ';

/**
 * Parse one `--set key.path=value` override. The value is read as YAML, so numbers,
 * booleans, `null` and lists (`[32, 62]`) keep their types.
 */
export function parseSetArg(arg: string): Sourced {
  const loc: SourceLoc = { file: `${SET_PREFIX}${arg}` };
  const eq = arg.indexOf('=');
  const key = eq > 0 ? arg.slice(0, eq).trim() : '';
  const bad = (message: string) => new ConfigError([{ loc, key, message }]);
  if (eq <= 0) throw bad('expected key.path=value (e.g. --set model.width=0.5)');
  const path = key.split('.');
  if (path.some((k) => !/^[A-Za-z_][A-Za-z0-9_-]*$/.test(k))) {
    throw bad('expected a dotted key path of names (e.g. rule.wm.eta_b)');
  }
  const text = arg.slice(eq + 1);
  let value: unknown;
  try {
    value = text.trim() === '' ? null : parseYaml(text);
  } catch (err) {
    throw bad(`cannot parse value '${text}' as YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  return sourcedAt(path, value, loc);
}
