import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { displayPath } from '../config/load.js';
import { ruleLabel } from '../rules/registry.js';
import { type AngleRecord, type MetricsRecord, readJsonl } from '../runner/metrics-log.js';
import { effectiveState, type RunMeta, readMeta, readStatus, runPaths } from '../runner/rundir.js';
import { UserError } from '../util/errors.js';

/** What the report and `wtrain list` need from a run directory (all of it optional but the config). */
export interface RunData {
  dir: string;
  name: string;
  rule: string;
  model: string;
  data: string;
  state: string;
  /** The run's config.yaml as written (raw, unvalidated). */
  config: Record<string, any>;
  meta?: RunMeta;
  records: MetricsRecord[];
  epochs: MetricsRecord[];
  angles: AngleRecord[];
}

function readLines<T>(file: string): T[] {
  return existsSync(file) ? readJsonl<T>(file, readFileSync(file, 'utf8')) : [];
}

/** Read a run directory leniently (raw YAML, no validation): reports work on older or partial runs. */
export function readRun(dir: string, withAngles = true): RunData {
  const p = runPaths(path.resolve(dir));
  if (!existsSync(p.config)) throw new UserError(`${dir} is not a run directory (no config.yaml)`);
  let cfg: Record<string, any>;
  try {
    cfg = (parseYaml(readFileSync(p.config, 'utf8')) ?? {}) as Record<string, any>;
  } catch (err) {
    throw new UserError(`${p.config}: cannot read it: ${(err as Error).message.split('\n')[0]}`);
  }
  if (typeof cfg !== 'object' || Array.isArray(cfg)) throw new UserError(`${p.config}: not a mapping`);
  const records = readLines<MetricsRecord>(p.metrics);
  const width = cfg.model?.width && cfg.model.width !== 1 ? `x${cfg.model.width}` : '';
  return {
    dir: p.dir,
    name: cfg.name ?? path.basename(p.dir),
    rule: String(cfg.rule?.name ?? '?'),
    model: `${cfg.model?.arch ?? '?'}${width}`,
    data: String(cfg.data?.source ?? '?'),
    state: effectiveState(readStatus(p.dir)),
    config: cfg,
    meta: readMeta(p.dir),
    records,
    epochs: records.filter((r) => r.kind === 'epoch'),
    angles: withAngles ? readLines<AngleRecord>(p.angles) : [],
  };
}

export interface RunSummary {
  name: string;
  label: string;
  rule: string;
  model: string;
  data: string;
  state: string;
  epochs: number;
  steps: number;
  final_top1: number | null;
  best_top1: number | null;
  final_top5: number | null;
  best_top5: number | null;
  wall_s: number | null;
  img_per_s: number | null;
}

/** Final/best val errors, length, wall time and mean throughput of a run. */
export function summarize(run: RunData, label = ruleLabel(run.rule)): RunSummary {
  const evals = run.epochs.filter((r) => r.val_top1 !== null);
  const last = run.records.at(-1);
  const lastEval = evals.at(-1);
  const speeds = run.epochs.map((r) => r.img_per_s).filter((x): x is number => x !== null);
  const min = (xs: (number | null)[]) => {
    const v = xs.filter((x): x is number => x !== null);
    return v.length > 0 ? Math.min(...v) : null;
  };
  return {
    name: run.name,
    label,
    rule: run.rule,
    model: run.model,
    data: run.data,
    state: run.state,
    epochs: last?.epoch ?? 0,
    steps: last?.step ?? 0,
    final_top1: lastEval?.val_top1 ?? null,
    best_top1: min(evals.map((r) => r.val_top1)),
    final_top5: lastEval?.val_top5 ?? null,
    best_top5: min(evals.map((r) => r.val_top5)),
    wall_s: last?.wall_s ?? null,
    img_per_s: speeds.length > 0 ? speeds.reduce((a, b) => a + b, 0) / speeds.length : null,
  };
}

/**
 * Labels by rule (BP, FA...), disambiguated with the run name when rules repeat, and
 * with the run's folder when names repeat too (runs of one config in different folders).
 */
export function runLabels(runs: RunData[]): string[] {
  const repeated = (keys: string[]) => {
    const counts = new Map<string, number>();
    for (const k of keys) counts.set(k, (counts.get(k) ?? 0) + 1);
    return keys.map((k) => (counts.get(k) ?? 0) > 1);
  };
  const ruleRepeats = repeated(runs.map((r) => r.rule));
  const byName = runs.map((r) => `${r.rule}\u0000${r.name}`);
  const nameRepeats = repeated(byName);
  return runs.map((r, i) => {
    const rule = ruleLabel(r.rule);
    if (!ruleRepeats[i]) return rule;
    return `${rule} (${nameRepeats[i] ? displayPath(r.dir) : r.name})`;
  });
}
