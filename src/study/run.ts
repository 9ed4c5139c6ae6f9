/**
 * `wtrain study run`: every run of a study that is not done, `jobs` at a time, each a
 * separate `wtrain run ... --resume auto` process (so an interrupted run continues from
 * its checkpoint and a finished one is skipped). Several small runs share one GPU this
 * way, and on a laptop `--nice` keeps them out of the way.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { getPriority, constants as osConstants, setPriority } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { RESUME_SAFE_KEYS } from '../config/diff.js';
import { ConfigError } from '../config/errors.js';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { effectiveState, readStatus, runPaths } from '../runner/rundir.js';
import { EXIT, UserError } from '../util/errors.js';
import { runArgs, type Study, type StudyRun } from './definition.js';

export interface StudyRunOptions {
  /** Runs at once (separate processes). */
  jobs: number;
  /** Only these runs: names (bp-s0), variants (bp) or indices (0-based, as `study status` numbers them). */
  only?: string[];
  /** `--set` overrides for every run (where it runs: backend.name=webgpu, backend.threads=2). */
  sets?: string[];
  /** Niceness of the run processes (0 = as this process). */
  nice?: number;
  /** Install SIGINT/SIGTERM/SIGHUP handlers that stop the runs (each checkpoints) and return 75. */
  signals?: boolean;
  /** How to start wtrain (default: this Node with the bin of this checkout, or $WTRAIN_BIN). */
  command?: string[];
  say?: (line: string) => void;
}

/** The runs `only` selects, in study order; an unknown selector is a user error. */
export function selectRuns(study: Study, only?: string[]): StudyRun[] {
  if (!only || only.length === 0) return study.runs;
  const picked = new Set<StudyRun>();
  for (const sel of only.flatMap((o) => o.split(',')).filter(Boolean)) {
    const byIndex = /^\d+$/.test(sel) ? study.runs[Number(sel)] : undefined;
    const matches = byIndex ? [byIndex] : study.runs.filter((r) => r.name === sel || r.variant === sel);
    if (matches.length === 0) {
      const names = study.runs.map((r, i) => `${i}:${r.name}`).join(', ');
      throw new UserError(`study ${study.name}: no run '${sel}' (runs: ${names})`);
    }
    for (const r of matches) picked.add(r);
  }
  return study.runs.filter((r) => picked.has(r));
}

/** done, running, interrupted, failed... as the run directory says; `pending` before it exists. */
export function runState(run: StudyRun): string {
  return existsSync(run.dir) ? effectiveState(readStatus(run.dir)) : 'pending';
}

/**
 * Each run's resolved config (base + its sets + `extra`), checked before anything starts:
 * a mistake is reported once, naming the study and the run, not in every run's log.
 */
export function resolveRuns(study: Study, runs: StudyRun[], extra: string[] = []): Map<StudyRun, Config> {
  const out = new Map<StudyRun, Config>();
  const problems: string[] = [];
  for (const run of runs) {
    try {
      out.set(run, loadConfig(study.base, { sets: [...run.sets, ...extra] }).config);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      for (const line of err.message.split('\n'))
        problems.push(`study ${study.name}, run ${run.name}: ${line}`);
      if (problems.length >= 20) break;
    }
  }
  if (problems.length > 0) throw new UserError([...new Set(problems)].join('\n'));
  return out;
}

/**
 * Done, and for as long as the study now asks: a run finished at 15 epochs is continued
 * when the study (or `--set train.epochs=...`) asks for 30 (`--resume auto` does the rest).
 */
export function isComplete(run: StudyRun, cfg: Config): boolean {
  if (runState(run) !== 'done') return false;
  try {
    const saved = parseYaml(readFileSync(runPaths(run.dir).config, 'utf8')) as Config;
    return saved.train.epochs === cfg.train.epochs && (saved.train.max_steps ?? null) === cfg.train.max_steps;
  } catch {
    return false;
  }
}

/** `study run --set` may only say where and how runs go (what resume accepts), not what they learn. */
export function checkRunSets(sets: string[]): void {
  for (const set of sets) {
    const key = set.slice(0, Math.max(0, set.indexOf('='))).trim();
    if (!RESUME_SAFE_KEYS.some((k) => key === k || key.startsWith(`${k}.`))) {
      throw new UserError(
        `study run --set ${set}: only keys that do not change what a run learns may be set for a whole study ` +
          `(${RESUME_SAFE_KEYS.join(', ')}); put ${key || 'the key'} in the study file's set: or runs:`,
      );
    }
  }
}

function defaultCommand(): string[] {
  const env = process.env.WTRAIN_BIN;
  if (env) return [process.execPath, env];
  const bin = fileURLToPath(new URL('../../bin/wtrain.js', import.meta.url));
  return [process.execPath, existsSync(bin) ? bin : process.argv[1]];
}

/** Lower a child's priority by `by` from this process's own (setting it absolutely may be refused). */
function lowerPriority(pid: number, by: number, say: (line: string) => void): void {
  try {
    setPriority(pid, Math.min(19, getPriority() + by));
  } catch (err) {
    say(`warning: cannot lower the priority of process ${pid}: ${(err as Error).message}`);
  }
}

/** Run (or continue) the selected runs; resolves to an exit code (0: all done, 75: interrupted). */
export async function runStudy(study: Study, opts: StudyRunOptions): Promise<number> {
  const say = opts.say ?? (() => {});
  const sets = opts.sets ?? [];
  checkRunSets(sets);
  const runs = selectRuns(study, opts.only);
  const configs = resolveRuns(study, runs, sets);
  const todo = runs.filter((r) => !isComplete(r, configs.get(r) as Config));
  say(
    `study ${study.name}: ${runs.length - todo.length} of ${runs.length} runs done, ${todo.length} to run, ${opts.jobs} at a time`,
  );
  if (todo.length === 0) return EXIT.OK;
  const logs = path.join(study.out, 'logs');
  mkdirSync(logs, { recursive: true });
  const [exe, ...pre] = opts.command ?? defaultCommand();
  const running = new Map<ChildProcess, StudyRun>();
  /** Why no more runs start: a signal to this process, or a run stopped from outside (exit 75). */
  let stopping = false;
  /** Signals this process received (a second SIGINT is passed on as such: the runs exit at once). */
  let signalled = 0;
  let failed = 0;
  let next = 0;

  const onSignal = (sig: NodeJS.Signals) => {
    signalled++;
    const forward = signalled > 1 && sig === 'SIGINT' ? 'SIGINT' : 'SIGTERM';
    stopping = true;
    say(`study ${study.name}: ${sig}: stopping ${running.size} run(s) after their checkpoints`);
    for (const child of running.keys()) child.kill(forward);
  };
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  if (opts.signals) for (const s of signals) process.on(s, onSignal);

  try {
    await new Promise<void>((resolve) => {
      const launch = () => {
        while (!stopping && running.size < opts.jobs && next < todo.length) {
          const run = todo[next++];
          const args = [...runArgs(study, run), ...sets.flatMap((s) => ['--set', s])];
          const logFile = path.join(logs, `${run.name}.log`);
          const fd = openSync(logFile, 'a');
          const child = spawn(exe, [...pre, ...args], { stdio: ['ignore', fd, fd] });
          closeSync(fd);
          if (opts.nice && child.pid !== undefined) lowerPriority(child.pid, opts.nice, say);
          running.set(child, run);
          say(
            `study ${study.name}: start ${run.name} (${next}/${todo.length}), log ${path.relative(process.cwd(), logFile)}`,
          );
          child.on('error', (err) => say(`study ${study.name}: cannot start ${run.name}: ${err.message}`));
          child.on('close', (code, signal) => {
            running.delete(child);
            const status = code ?? (signal ? 128 + (osConstants.signals[signal] ?? 15) : EXIT.ERROR);
            say(`study ${study.name}: ${run.name} ${status === 0 ? 'done' : `exited ${status}`}`);
            if (status === EXIT.INTERRUPTED)
              stopping = true; // stopped from outside: stop the study too
            else if (status !== 0 && failed === 0) failed = status;
            if (running.size === 0 && (stopping || next >= todo.length)) resolve();
            else launch();
          });
        }
      };
      launch();
    });
  } finally {
    if (opts.signals) for (const s of signals) process.off(s, onSignal);
  }
  if (stopping) {
    say(`study ${study.name}: interrupted; the same command continues it`);
    return EXIT.INTERRUPTED;
  }
  return failed;
}
