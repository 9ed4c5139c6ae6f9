/** `wtrain list`: one line per run directory under a folder. */
import { existsSync, readdirSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { readStatus, runPaths } from '../runner/rundir.js';
import { UserError } from '../util/errors.js';
import { readRun, summarize } from './read-run.js';

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

/** How deep `list` looks for runs below its folder (runs/<study>/<sweep>/<run> is 3). */
const MAX_DEPTH = 4;

/**
 * Run directories in `root` (or `root` itself if it is one) and in the folders below it
 * that are not runs themselves (sweeps: runs/sweep-x/<run>; studies: runs/<study>/<run>),
 * sorted by path. Hidden folders are skipped, and a folder reached twice (links) is listed once.
 */
export function findRunDirs(root: string): string[] {
  if (!existsSync(root)) throw new UserError(`${root}: no such folder`);
  if (!statSync(root).isDirectory())
    throw new UserError(`${root}: not a folder (expected a folder of run directories)`);
  const found: string[] = [];
  const seen = new Set<string>();
  const visit = (dir: string, depth: number): void => {
    const real = realpathSync(dir);
    if (seen.has(real)) return;
    seen.add(real);
    if (existsSync(runPaths(dir).config)) {
      found.push(dir);
      return;
    }
    if (depth >= MAX_DEPTH) return;
    let entries: string[];
    try {
      entries = readdirSync(dir).filter((n) => !n.startsWith('.'));
    } catch {
      return; // a folder we may not read holds no run we can list
    }
    for (const name of entries.sort()) {
      const sub = path.join(dir, name);
      if (statSync(sub, { throwIfNoEntry: false })?.isDirectory()) visit(sub, depth + 1);
    }
  };
  visit(root, 0);
  return found;
}

/**
 * One listing per run, named by its path below `root` when nested (sweep-x/run-a); a run
 * whose files cannot be read is listed `unreadable`, and `warn` says why. The epoch is
 * the furthest known: metrics.jsonl's last record, or status.json's (written at every
 * checkpoint, also between log intervals: a run stopped by a signal).
 */
export function listRuns(root: string, warn: (line: string) => void = () => {}): RunListing[] {
  return findRunDirs(root).map((dir) => {
    const rel = path.relative(root, dir);
    const nested = rel.includes(path.sep) ? `${path.dirname(rel)}/` : '';
    let run: ReturnType<typeof readRun>;
    try {
      run = readRun(dir, false);
    } catch (err) {
      if (!(err instanceof UserError)) throw err;
      warn(`warning: ${err.message}`);
      const unknown = { rule: '?', model: '?', data: '?', epoch: 0, step: 0, best_top1: null };
      return { name: nested + path.basename(dir), dir, ...unknown, status: 'unreadable' };
    }
    const s = summarize(run);
    const status = readStatus(dir);
    const ahead = status !== undefined && status.epoch > s.epochs;
    return {
      name: nested + run.name,
      dir,
      rule: run.rule,
      model: run.model,
      data: run.data,
      epoch: ahead ? status.epoch : s.epochs,
      step: ahead ? status.step : s.steps,
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
