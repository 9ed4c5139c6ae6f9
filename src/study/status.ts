/** `wtrain study status`: where each run of a study stands, from its run directory. */
import { existsSync } from 'node:fs';
import { readRun } from '../report/read-run.js';
import { runPaths } from '../runner/rundir.js';
import type { Study } from './definition.js';
import { resolveRuns, runState } from './run.js';

export interface StudyRunStatus {
  index: number;
  name: string;
  state: string;
  epoch: number;
  epochs: number | null;
  val_top1: number | null;
  best_top1: number | null;
  wall_s: number | null;
  dir: string;
}

/** Each run's state and progress; `epochs` is what the study now asks for (a done run may be extended). */
export function studyStatus(study: Study): StudyRunStatus[] {
  const configs = resolveRuns(study, study.runs);
  return study.runs.map((run, index) => {
    const base = { index, name: run.name, dir: run.dir, state: runState(run) };
    if (!existsSync(runPaths(run.dir).config)) {
      return {
        ...base,
        epoch: 0,
        epochs: configs.get(run)?.train.epochs ?? null,
        val_top1: null,
        best_top1: null,
        wall_s: null,
      };
    }
    const r = readRun(run.dir, false);
    const evals = r.epochs.map((e) => e.val_top1).filter((x): x is number => x !== null);
    const last = r.records.at(-1);
    return {
      ...base,
      epoch: last?.epoch ?? 0,
      epochs: configs.get(run)?.train.epochs ?? null,
      val_top1: evals.at(-1) ?? null,
      best_top1: evals.length > 0 ? Math.min(...evals) : null,
      wall_s: last?.wall_s ?? null,
    };
  });
}

export function formatStudyStatus(study: Study, rows: StudyRunStatus[]): string {
  const pct = (x: number | null) => (x === null ? '—' : `${(100 * x).toFixed(2)}%`);
  const table = [['#', 'run', 'state', 'epoch', 'val top-1', 'best top-1', 'wall']];
  for (const r of rows) {
    table.push([
      String(r.index),
      r.name,
      r.state,
      r.epochs === null ? '—' : `${r.epoch.toFixed(2)}/${r.epochs}`,
      pct(r.val_top1),
      pct(r.best_top1),
      r.wall_s === null ? '—' : `${(r.wall_s / 60).toFixed(1)} min`,
    ]);
  }
  const widths = table[0].map((_, c) => Math.max(...table.map((row) => row[c].length)));
  const lines = table.map((row) =>
    row
      .map((cell, c) => cell.padEnd(widths[c]))
      .join('  ')
      .trimEnd(),
  );
  const done = rows.filter((r) => r.state === 'done').length;
  return [`study ${study.name}: ${done} of ${rows.length} runs done (${study.out})`, ...lines].join('\n');
}
