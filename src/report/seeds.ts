/**
 * Runs of one setting under several seeds (what `scripts/sweep.sh -s "0 1 2"` makes):
 * grouped so Figure 3 draws their mean with a min–max band and the report gives mean ± sd.
 */
import { diffConfigs } from '../config/diff.js';
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

/** Keys in which runs of one setting may differ: the seed, and what does not change training. */
const NOT_THE_SETTING = ['name', 'description', 'run', 'backend', 'train.seed'];

/** Whether two runs' configs differ only in NOT_THE_SETTING (compared as resume compares them). */
export function sameSetting(a: Record<string, any>, b: Record<string, any>): boolean {
  return diffConfigs(a, b).every((c) =>
    NOT_THE_SETTING.some((k) => c.key === k || c.key.startsWith(`${k}.`)),
  );
}

/** Runs grouped by setting, groups in order of their first run. */
export function seedGroups(runs: RunData[]): SeedGroup[] {
  const groups: number[][] = [];
  runs.forEach((r, i) => {
    const group = groups.find((g) => sameSetting(runs[g[0]].config, r.config));
    if (group) group.push(i);
    else groups.push([i]);
  });
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
