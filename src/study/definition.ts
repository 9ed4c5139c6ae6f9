/**
 * A study: a named set of runs (variants × seeds) over one base config, as a YAML file.
 *
 *   name: cifar10-resnet20
 *   base: ../configs/_base-cifar10.yaml     # relative to the study file
 *   set: { train.epochs: 15, ... }          # --set overrides for every run
 *   seeds: [0, 1, 2]
 *   runs: { bp: { rule.name: bp }, wm-match: { rule.name: wm, rule.wm.b_scale: match_w_norm } }
 *
 * Each run is `wtrain run BASE --set <set> --set <its own> --set train.seed=S` into
 * `<out>/<variant>-s<seed>`; paths in `set` (data.path, ...) are relative to the study file.
 */
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError, type Problem } from '../config/errors.js';
import { issuesToProblems } from '../config/issues.js';
import { isPlainObject } from '../config/merge.js';
import { isValidRunName } from '../config/schema.js';
import { readYamlSource } from '../config/yaml-source.js';
import { PATH_KEYS } from '../data/config.js';

const KEY = /^[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z_][A-Za-z0-9_-]*)*$/;
const overrides = z.record(z.string(), z.unknown());

const studySchema = z.strictObject({
  name: z.string().refine(isValidRunName, 'expected a name of letters, digits, ".", "_" and "-"'),
  description: z.string().default(''),
  /** The config every run starts from (relative to the study file). */
  base: z.string().min(1),
  /** Overrides for every run, as `--set key=value`. */
  set: overrides.default({}),
  seeds: z.array(z.number().int()).min(1).default([0]),
  /** Variant name → its own overrides. */
  runs: z.record(
    z.string(),
    overrides.nullable().transform((v) => v ?? {}),
  ),
  /** Published numbers to print beside the study's: column title → { variant: top-1 error in % }. */
  references: z.record(z.string(), z.record(z.string(), z.number())).default({}),
  /** Folder of the run directories (relative to the working directory); default runs/<name>. */
  out: z.string().nullable().default(null),
  /** Folder `study report` writes to (relative to the study file); default ../results/<name>. */
  results: z.string().nullable().default(null),
});

export interface Study {
  name: string;
  description: string;
  /** The study file (absolute). */
  file: string;
  base: string;
  seeds: number[];
  runs: StudyRun[];
  references: Record<string, Record<string, number>>;
  /** Folder of the run directories. */
  out: string;
  /** Folder of the rendered results. */
  results: string;
}

export interface StudyRun {
  /** `<variant>-s<seed>`: the run's name and its folder's name. */
  name: string;
  variant: string;
  seed: number;
  /** The `--set` arguments, in order (study-wide, variant, seed). */
  sets: string[];
  dir: string;
}

/** `key=value` with the value written as YAML flow text (what parseSetArg reads back). */
function setArg(key: string, value: unknown, studyDir: string): string {
  let v = value;
  // Data paths are relative to the study file, as a config file's are to that file.
  const dataKey = key.startsWith('data.') ? key.slice(5) : '';
  if ((PATH_KEYS as readonly string[]).includes(dataKey) && typeof v === 'string')
    v = path.resolve(studyDir, v);
  // Plain text where YAML reads it back as the same string (bp, /a/b), else JSON ("123", [1,2]).
  const text = typeof v === 'string' && safeParse(v) === v ? v : JSON.stringify(v);
  return `${key}=${text}`;
}

/**
 * Overrides as dotted keys: `data: { path: x }` is `data.path: x` (the same under the
 * config's deep merge), so every data path is found and made relative to the study file.
 */
function flatten(over: Record<string, unknown>, prefix = ''): [string, unknown][] {
  return Object.entries(over).flatMap(([k, v]): [string, unknown][] => {
    const key = prefix ? `${prefix}.${k}` : k;
    return isPlainObject(v) ? flatten(v, key) : [[key, v]];
  });
}

function safeParse(text: string): unknown {
  try {
    return parseYaml(text, { logLevel: 'silent' });
  } catch {
    return undefined;
  }
}

/** Read and check a study file; problems are one line each with file:line:col. */
export function loadStudy(file: string, opts: { out?: string } = {}): Study {
  const abs = path.resolve(file);
  const doc = readYamlSource(file);
  const parsed = studySchema.safeParse(doc.value);
  if (!parsed.success)
    throw new ConfigError(issuesToProblems(parsed.error.issues, doc.value, doc.locs, studySchema));
  const s = parsed.data;
  const dir = path.dirname(abs);
  const problems: Problem[] = [];
  const bad = (key: string, message: string) =>
    problems.push({ loc: doc.locs.get(key)?.key ?? doc.locs.get(key)?.value ?? { file }, key, message });
  if (Object.keys(s.runs).length === 0) bad('runs', 'expected at least one run');
  const twice = s.seeds.filter((x, i) => s.seeds.indexOf(x) !== i);
  if (twice.length > 0) bad('seeds', `seed ${twice[0]} is listed twice (each seed names one run folder)`);
  for (const [variant, own] of Object.entries(s.runs)) {
    if (!isValidRunName(variant))
      bad(`runs.${variant}`, 'expected a run name of letters, digits, ".", "_" and "-"');
    for (const k of Object.keys(own))
      if (!KEY.test(k)) bad(`runs.${variant}.${k}`, 'expected a dotted config key such as rule.name');
  }
  for (const k of Object.keys(s.set))
    if (!KEY.test(k)) bad(`set.${k}`, 'expected a dotted config key such as rule.name');
  for (const [column, refs] of Object.entries(s.references)) {
    for (const variant of Object.keys(refs)) {
      if (!(variant in s.runs)) bad(`references.${column}.${variant}`, `no run named '${variant}' in runs:`);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  const common = flatten(s.set).map(([k, v]) => setArg(k, v, dir));
  const out = path.resolve(opts.out ?? s.out ?? path.join('runs', s.name));
  const runs: StudyRun[] = [];
  for (const [variant, own] of Object.entries(s.runs)) {
    for (const seed of s.seeds) {
      const name = `${variant}-s${seed}`;
      const sets = [...common, ...flatten(own).map(([k, v]) => setArg(k, v, dir)), `train.seed=${seed}`];
      runs.push({ name, variant, seed, sets, dir: path.join(out, name) });
    }
  }
  return {
    name: s.name,
    description: s.description,
    file: abs,
    base: path.resolve(dir, s.base),
    seeds: s.seeds,
    runs,
    references: s.references,
    out,
    results: path.resolve(dir, s.results ?? path.join('..', 'results', s.name)),
  };
}

/** The `wtrain run` arguments for one run of a study (what `study run` spawns and `study commands` prints). */
export function runArgs(study: Study, run: StudyRun): string[] {
  return [
    'run',
    study.base,
    ...run.sets.flatMap((s) => ['--set', s]),
    '--name',
    run.name,
    '--run-dir',
    run.dir,
    '--resume',
    'auto',
    '--no-report',
  ];
}
