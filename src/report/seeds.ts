/**
 * Runs of one setting under several seeds (what `scripts/sweep.sh -s "0 1 2"` makes):
 * grouped so Figure 3 draws their mean with a min–max band and the report gives mean ± sd.
 */
import { type RunData, type RunSummary, runLabels } from './read-run.js';

export interface SeedGroup {
  /** The setting's label: the rule (disambiguated as runLabels does), plus `(n seeds)`. */
  label: string;
  /** Indices into the runs, in the order given. */
  members: number[];
  seeds: (number | null)[];
}

/** Mean and sample standard deviation (null with fewer than 2 values) of what is not null. */
export interface MeanSd {
  mean: number;
  sd: number | null;
  n: number;
}

export interface SeedGroupSummary {
  label: string;
  runs: string[];
  seeds: (number | null)[];
  final_top1: MeanSd | null;
  best_top1: MeanSd | null;
  final_top5: MeanSd | null;
  best_top5: MeanSd | null;
}

/** JSON with keys sorted at every level, so equal configs give equal strings. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

/** What defines a setting: the config without its seed and the keys that do not change training. */
export function settingKey(config: Record<string, any>): string {
  const { name: _n, description: _d, run: _r, backend: _b, ...rest } = config;
  const { seed: _s, ...train } = (rest.train ?? {}) as Record<string, unknown>;
  return canonical({ ...rest, train });
}

/** Runs grouped by setting, groups in order of their first run. */
export function seedGroups(runs: RunData[]): SeedGroup[] {
  const byKey = new Map<string, number[]>();
  runs.forEach((r, i) => {
    const key = settingKey(r.config);
    byKey.set(key, [...(byKey.get(key) ?? []), i]);
  });
  const groups = [...byKey.values()];
  const labels = runLabels(groups.map((g) => runs[g[0]]));
  return groups.map((members, i) => ({
    label: members.length > 1 ? `${labels[i]} (${members.length} seeds)` : labels[i],
    members,
    seeds: members.map((m) =>
      typeof runs[m].config.train?.seed === 'number' ? runs[m].config.train.seed : null,
    ),
  }));
}

export function meanSd(xs: (number | null)[]): MeanSd | null {
  const v = xs.filter((x): x is number => x !== null);
  if (v.length === 0) return null;
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  const sd = v.length > 1 ? Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (v.length - 1)) : null;
  return { mean, sd, n: v.length };
}

export function summarizeGroups(groups: SeedGroup[], summaries: RunSummary[]): SeedGroupSummary[] {
  return groups.map((g) => {
    const rows = g.members.map((m) => summaries[m]);
    return {
      label: g.label,
      runs: rows.map((r) => r.name),
      seeds: g.seeds,
      final_top1: meanSd(rows.map((r) => r.final_top1)),
      best_top1: meanSd(rows.map((r) => r.best_top1)),
      final_top5: meanSd(rows.map((r) => r.final_top5)),
      best_top5: meanSd(rows.map((r) => r.best_top5)),
    };
  });
}
