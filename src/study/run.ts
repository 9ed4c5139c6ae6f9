/**
 * `wtrain study run`: every run of a study that is not done, `jobs` at a time, each a
 * separate `wtrain run ... --resume auto` process (so an interrupted run continues from
 * its checkpoint and a finished one is skipped). Several small runs share one GPU this
 * way, and on a laptop `--nice` keeps them out of the way.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { setPriority } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { effectiveState, readStatus } from '../runner/rundir.js';
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

function defaultCommand(): string[] {
  const env = process.env.WTRAIN_BIN;
  if (env) return [process.execPath, env];
  const bin = fileURLToPath(new URL('../../bin/wtrain.js', import.meta.url));
  return [process.execPath, existsSync(bin) ? bin : process.argv[1]];
}

/** Run (or continue) the selected runs; resolves to an exit code (0: all done, 75: interrupted). */
export async function runStudy(study: Study, opts: StudyRunOptions): Promise<number> {
  const say = opts.say ?? (() => {});
  const runs = selectRuns(study, opts.only);
  const todo = runs.filter((r) => runState(r) !== 'done');
  say(
    `study ${study.name}: ${runs.length - todo.length} of ${runs.length} runs done, ${todo.length} to run, ${opts.jobs} at a time`,
  );
  if (todo.length === 0) return EXIT.OK;
  const logs = path.join(study.out, 'logs');
  mkdirSync(logs, { recursive: true });
  const [exe, ...pre] = opts.command ?? defaultCommand();
  const running = new Map<ChildProcess, StudyRun>();
  let stopping: NodeJS.Signals | null = null;
  let failed = 0;
  let next = 0;

  const onSignal = (sig: NodeJS.Signals) => {
    // First signal: each run checkpoints and exits 75. A second SIGINT is passed on as is.
    const forward = stopping && sig === 'SIGINT' ? 'SIGINT' : 'SIGTERM';
    stopping = sig;
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
          const args = [...runArgs(study, run), ...(opts.sets ?? []).flatMap((s) => ['--set', s])];
          const logFile = path.join(logs, `${run.name}.log`);
          const fd = openSync(logFile, 'a');
          const child = spawn(exe, [...pre, ...args], { stdio: ['ignore', fd, fd] });
          closeSync(fd);
          if (opts.nice && child.pid !== undefined) setPriority(child.pid, opts.nice);
          running.set(child, run);
          say(
            `study ${study.name}: start ${run.name} (${next}/${todo.length}), log ${path.relative(process.cwd(), logFile)}`,
          );
          child.on('error', (err) => say(`study ${study.name}: cannot start ${run.name}: ${err.message}`));
          child.on('close', (code, signal) => {
            running.delete(child);
            const status = code ?? 128 + (signal === 'SIGKILL' ? 9 : 15);
            say(`study ${study.name}: ${run.name} ${status === 0 ? 'done' : `exited ${status}`}`);
            if (status === EXIT.INTERRUPTED && !stopping)
              stopping = 'SIGTERM'; // stopped from outside: stop the study too
            else if (status !== 0 && status !== EXIT.INTERRUPTED && failed === 0) failed = status;
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
