/** `wtrain list`: one line per run directory under a folder. */
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { UserError } from '../config/errors.js';
import { readRun, summarize } from '../report/read-run.js';
import { runPaths } from './rundir.js';

export interface RunListing {
  name: string;
  dir: string;
  rule: string;
  model: string;
  data: string;
  epoch: number;
  step: number;
  best_top1: number | null;
  status: string;
}

/** Run directories in `root` (and `root` itself if it is one), sorted by name. */
export function findRunDirs(root: string): string[] {
  if (!existsSync(root)) throw new UserError(`${root}: no such folder`);
  if (!statSync(root).isDirectory())
    throw new UserError(`${root}: not a folder (expected a folder of run directories)`);
  if (existsSync(runPaths(root).config)) return [root];
  return readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(runPaths(path.join(root, d.name)).config))
    .map((d) => path.join(root, d.name))
    .sort();
}

/** One listing per run; a run whose files cannot be read is listed `unreadable`, and `warn` says why. */
export function listRuns(root: string, warn: (line: string) => void = () => {}): RunListing[] {
  return findRunDirs(root).map((dir) => {
    let run: ReturnType<typeof readRun>;
    try {
      run = readRun(dir, false);
    } catch (err) {
      if (!(err instanceof UserError)) throw err;
      warn(`warning: ${err.message}`);
      const unknown = { rule: '?', model: '?', data: '?', epoch: 0, step: 0, best_top1: null };
      return { name: path.basename(dir), dir, ...unknown, status: 'unreadable' };
    }
    const s = summarize(run);
    return {
      name: run.name,
      dir,
      rule: run.rule,
      model: run.model,
      data: run.data,
      epoch: s.epochs,
      step: s.steps,
      best_top1: s.best_top1,
      status: run.state,
    };
  });
}

/** Aligned text columns. */
export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

export function formatListing(runs: RunListing[]): string {
  const rows = runs.map((r) => [
    r.name,
    r.rule,
    r.model,
    r.data,
    r.epoch.toFixed(2),
    r.best_top1 === null ? '-' : `${(100 * r.best_top1).toFixed(2)}%`,
    r.status,
  ]);
  return formatTable(['NAME', 'RULE', 'MODEL', 'DATA', 'EPOCH', 'BEST TOP-1', 'STATUS'], rows);
}
