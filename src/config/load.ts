import { existsSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { PATH_KEYS, resolveDataPaths } from '../data/config.js';
import { scheduleProblems } from './checks.js';
import { ConfigError, type Problem, type SourceLoc } from './errors.js';
import { issuesToProblems } from './issues.js';
import { isPlainObject, mergeSourced, parseSetArg, SET_PREFIX, sourcedAt } from './merge.js';
import { type Config, configSchema, LOADER_KEYS, SMOKE_DEFAULTS } from './schema.js';
import { type KeyLocs, readYamlSource, type Sourced } from './yaml-source.js';

export interface LoadOptions {
  /** `key.path=value` overrides, applied last (after `--smoke`). */
  sets?: readonly string[];
  /** Apply the built-in smoke overrides and the file's `smoke:` section. */
  smoke?: boolean;
  /**
   * A run directory's config.yaml: every default is written out there, so a decay epoch
   * beyond train.epochs cannot be told from the untouched default and is not refused.
   */
  saved?: boolean;
}

export interface LoadedConfig {
  /** The resolved, validated config: what runs and what is saved. */
  config: Config;
  /** The top-level file, as given. */
  file: string;
  smoke: boolean;
  /** Where a dotted key's value was written (file:line:col, or the `--set` that set it). */
  where(key: string): SourceLoc | undefined;
}

/** A path as shown in messages: relative to the working directory when under it. */
export function displayPath(file: string): string {
  const rel = path.relative(process.cwd(), file);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : file;
}

function extendsList(doc: Sourced, file: string): { files: string[]; loc?: SourceLoc } {
  const v = isPlainObject(doc.value) ? doc.value.extends : undefined;
  const loc = doc.locs.get('extends')?.value;
  if (v === undefined || v === null) return { files: [] };
  const list = Array.isArray(v) ? v : [v];
  if (list.some((x) => typeof x !== 'string' || x === '')) {
    throw new ConfigError([{ loc, key: 'extends', message: 'expected a file name or a list of file names' }]);
  }
  return { files: list.map((x) => path.resolve(path.dirname(file), x as string)), loc };
}

/** Read a file and everything it `extends` (parents first, child on top), refusing cycles. */
function readWithParents(file: string, stack: string[], from?: { loc?: SourceLoc; key: string }): Sourced {
  const abs = path.resolve(file);
  const doc = readYamlSource(displayPath(abs), from);
  if (!isPlainObject(doc.value)) {
    throw new ConfigError([
      {
        loc: { file: displayPath(abs), line: 1, col: 1 },
        key: '',
        message: 'expected a mapping of sections',
      },
    ]);
  }
  const { files, loc } = extendsList(doc, abs);
  let merged: Sourced = { value: {}, locs: new Map() };
  for (const parent of files) {
    if (stack.includes(parent) || parent === abs) {
      const cycle = [...stack, abs, parent].map(displayPath).join(' -> ');
      throw new ConfigError([{ loc, key: 'extends', message: `extends cycle: ${cycle}` }]);
    }
    merged = mergeSourced(merged, readWithParents(parent, [...stack, abs], { loc, key: 'extends' }));
  }
  const { extends: _drop, ...own } = doc.value;
  const out = mergeSourced(merged, { value: own, locs: doc.locs });
  const root = doc.locs.get('');
  if (root) out.locs.set('', root);
  return out;
}

const SMOKE_ORIGIN = '--smoke (built-in)';

/** The `smoke:` subtree of a document, re-rooted at the top so it can be merged over it. */
function smokeSection(doc: Sourced): Sourced {
  const value = isPlainObject(doc.value) ? doc.value.smoke : undefined;
  if (value === undefined || value === null) return { value: {}, locs: new Map() };
  if (!isPlainObject(value)) {
    const loc = doc.locs.get('smoke')?.value;
    throw new ConfigError([
      { loc, key: 'smoke', message: 'expected a mapping of overrides, like the file itself' },
    ]);
  }
  const locs = new Map<string, KeyLocs>();
  for (const [k, v] of doc.locs) {
    if (k === 'smoke') locs.set('', v);
    else if (k.startsWith('smoke.')) locs.set(k.slice(6), v);
  }
  return { value, locs };
}

function validate(doc: Sourced, saved: boolean): { config?: Config; problems: Problem[] } {
  const { extends: _e, smoke: _s, ...value } = doc.value as Record<string, unknown>;
  const result = configSchema.safeParse(value);
  if (result.success) {
    const problems = scheduleProblems(result.data, doc.locs, !saved);
    return problems.length > 0 ? { problems } : { config: result.data, problems };
  }
  return {
    problems: issuesToProblems(result.error.issues, value, doc.locs, configSchema as any, LOADER_KEYS),
  };
}

/** Build the document for one variant (plain or smoke) of a config, then validate it. */
function resolveVariant(
  base: Sourced,
  smoke: boolean,
  sets: readonly string[],
  saved = false,
): ReturnType<typeof validate> & { doc: Sourced } {
  let doc = base;
  if (smoke) {
    doc = mergeSourced(doc, sourcedAt([], SMOKE_DEFAULTS, { file: SMOKE_ORIGIN }));
    doc = mergeSourced(doc, smokeSection(base));
  }
  for (const s of sets) doc = mergeSourced(doc, parseSetArg(s));
  return { ...validate(doc, saved), doc };
}

/**
 * The folder each relative data path is resolved against: the folder of the file that
 * wrote it (a parent named by `extends:` included), or the working directory for a
 * `--set` typed on the command line.
 */
function dataPathBases(doc: Sourced, file: string): Partial<Record<(typeof PATH_KEYS)[number], string>> {
  const bases: Partial<Record<(typeof PATH_KEYS)[number], string>> = {};
  for (const key of PATH_KEYS) {
    const from = doc.locs.get(`data.${key}`)?.value.file;
    if (from?.startsWith(SET_PREFIX)) bases[key] = process.cwd();
    else if (from === undefined || from === SMOKE_ORIGIN) bases[key] = path.dirname(path.resolve(file));
    else bases[key] = path.dirname(path.resolve(from));
  }
  return bases;
}

/**
 * Load a config file: YAML with positions, `extends:` inheritance, `--smoke`, `--set`,
 * then schema validation. Every problem found is reported at once, one line each.
 * Both variants (plain and smoke) are checked so a broken `smoke:` section shows early.
 */
export function loadConfig(file: string, opts: LoadOptions = {}): LoadedConfig {
  if (!existsSync(file))
    throw new ConfigError([{ loc: { file }, key: '', message: 'config file not found' }]);
  const base = readWithParents(file, []);
  const sets = opts.sets ?? [];
  const smoke = opts.smoke ?? false;
  const main = resolveVariant(base, smoke, sets, opts.saved);
  const other = resolveVariant(base, !smoke, sets, opts.saved);
  const unique = new Map([...main.problems, ...other.problems].map((p) => [JSON.stringify(p), p]));
  const problems = [...unique.values()];
  if (problems.length > 0 || !main.config) throw new ConfigError(problems);
  // Relative data paths are resolved where they were written; the resolved config holds them absolute.
  const config = { ...main.config, data: resolveDataPaths(main.config.data, dataPathBases(main.doc, file)) };
  return { config, file, smoke, where: (key) => main.doc.locs.get(key)?.value };
}

/** The resolved config as YAML (what `config.yaml` in a run directory holds). */
export function configToYaml(config: Config): string {
  return stringify(config, { lineWidth: 0 });
}
