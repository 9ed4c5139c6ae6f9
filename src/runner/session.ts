/**
 * `wtrain run` and `wtrain resume` as library functions: choose the run directory,
 * decide between a fresh start and a resume, then train and record.
 */
import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { classifyChanges, diffConfigs, formatChange } from '../config/diff.js';
import { configToYaml, displayPath, loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { EXIT, UserError } from '../util/errors.js';
import { writeFileAtomic } from './atomic.js';
import { listCheckpoints } from './checkpoints.js';
import { type ExecuteOptions, execute, type RunResult } from './execute.js';
import { acquireRunLock } from './lock.js';
import { checkDataPaths, dataPathsExist } from './preflight.js';
import { chooseRunDir, effectiveState, ensureRunDir, readMeta, readStatus, runPaths } from './rundir.js';
import { isFull, type StorageError, storageError } from './storage.js';

export interface RunRequest {
  configFile: string;
  sets?: string[];
  smoke?: boolean;
  name?: string;
  runDir?: string;
  /** `auto`: continue the run directory if it has a checkpoint (or skip it if done). */
  resume?: 'auto' | 'never';
  force?: boolean;
}

function savedConfig(dir: string): Config | undefined {
  const file = runPaths(dir).config;
  return existsSync(file) ? loadConfig(file, { saved: true }).config : undefined;
}

/** Refuse (exit 4) when training-relevant keys differ, unless forced; warn about the rest. */
function checkChanges(dir: string, saved: Config, next: Config, force: boolean, opts: ExecuteOptions): void {
  const { relevant, safe } = classifyChanges(saved, next);
  if (safe.length > 0)
    opts.say?.(`note: changed since the run started: ${safe.map(formatChange).join('; ')}`);
  if (relevant.length === 0) return;
  const list = relevant.map((c) => `  ${formatChange(c)}`).join('\n');
  if (!force) {
    throw new UserError(
      `refusing to resume ${displayPath(dir)}: training-relevant config changed:\n${list}\n` +
        'use --force to resume anyway, or --name/--run-dir for a new run',
      EXIT.RESUME_REFUSED,
    );
  }
  opts.say?.(`warning: resuming with changed training config (--force):\n${list}`);
}

/** `wtrain run <config>`: a new run, or with `--resume auto` the continuation of an existing one. */
export async function runFromConfig(req: RunRequest, opts: ExecuteOptions = {}): Promise<RunResult> {
  const loaded = loadConfig(req.configFile, { sets: req.sets, smoke: req.smoke });
  let config = loaded.config;
  if (req.name) config = { ...config, name: req.name };
  const auto = req.resume === 'auto';
  const dir = chooseRunDir({
    configFile: req.configFile,
    runsRoot: config.run.runs_root,
    configRunDir: config.run.run_dir,
    configName: config.name,
    name: req.name,
    runDir: req.runDir,
    stable: auto,
    smoke: loaded.smoke,
  });
  if (config.name === null) config = { ...config, name: path.basename(dir) };
  const exists = () =>
    new UserError(
      `run directory ${displayPath(dir)} already exists (${effectiveState(readStatus(dir))}): ` +
        'use --resume auto to continue it, or --name/--run-dir for a new run',
    );
  if (!auto && existsSync(runPaths(dir).config)) throw exists();
  // The data before anything is created (--smoke is offered when its variant has data).
  const smokeWorks = () =>
    !loaded.smoke && dataPathsExist(loadConfig(req.configFile, { sets: req.sets, smoke: true }).config);
  checkDataPaths(config, loaded.where, smokeWorks);
  const created = !existsSync(dir);
  try {
    return await trainInto(dir, config, { req, auto, exists, smoke: loaded.smoke }, opts);
  } catch (err) {
    // A new run that failed before training (data it could not read, a folder it could
    // not write) leaves nothing behind: its folder held only what this process wrote.
    const untouched = !existsSync(runPaths(dir).metrics) && !existsSync(runPaths(dir).lock);
    const user = err instanceof UserError ? err : storageError(err, { dir });
    if (created && untouched && user) rmSync(dir, { recursive: true, force: true });
    throw withHint(err, dir);
  }
}

async function trainInto(
  dir: string,
  config: Config,
  o: { req: RunRequest; auto: boolean; exists: () => UserError; smoke: boolean },
  opts: ExecuteOptions,
): Promise<RunResult> {
  const { req, auto, exists } = o;
  ensureRunDir(dir);
  const lock = acquireRunLock(dir, { force: req.force, say: opts.say });
  try {
    const saved = savedConfig(dir);
    if (saved && !auto) throw exists(); // written by a process that held the lock a moment ago
    if (saved) {
      checkChanges(dir, saved, config, req.force ?? false, opts);
      if (alreadyDone(dir, saved, config, opts))
        return { exitCode: EXIT.OK, runDir: dir, outcome: 'skipped' };
    }
    writeFileAtomic(runPaths(dir).config, configToYaml(config));
    return await execute(dir, config, {
      ...opts,
      fresh: !saved,
      configFile: path.resolve(req.configFile),
      smoke: o.smoke,
      forced: req.force ?? false,
    });
  } finally {
    lock.release();
  }
}

/**
 * A finished run asked for no more epochs or steps: nothing to do, and its config.yaml
 * is left as it was (changes forced through would describe training that never ran).
 */
function alreadyDone(dir: string, saved: Config, next: Config, opts: ExecuteOptions): boolean {
  if (effectiveState(readStatus(dir)) !== 'done' || !sameLength(saved, next)) return false;
  const unapplied = diffConfigs(saved, next).length > 0;
  opts.say?.(
    `${displayPath(dir)}: already done, nothing to do` +
      (unapplied ? ' (config left unchanged; raise train.epochs or train.max_steps to train further)' : ''),
  );
  return true;
}

function sameLength(a: Config, b: Config): boolean {
  return a.train.epochs === b.train.epochs && a.train.max_steps === b.train.max_steps;
}

/** `wtrain resume <run-dir>`: continue from the latest checkpoint with the saved config (plus `--set`s). */
export async function resumeRun(
  dir: string,
  req: { sets?: string[]; force?: boolean },
  opts: ExecuteOptions = {},
): Promise<RunResult> {
  const paths = runPaths(path.resolve(dir));
  if (!existsSync(paths.config)) {
    throw new UserError(`${displayPath(paths.dir)} is not a run directory (no config.yaml)`);
  }
  const saved = loadConfig(paths.config, { saved: true }).config;
  const loaded = loadConfig(paths.config, { sets: req.sets, saved: true });
  const config = loaded.config;
  checkDataPaths(config, loaded.where);
  try {
    return await resumeLocked(paths.dir, saved, config, req, opts);
  } catch (err) {
    throw withHint(err, paths.dir);
  }
}

async function resumeLocked(
  dir: string,
  saved: Config,
  config: Config,
  req: { sets?: string[]; force?: boolean },
  opts: ExecuteOptions,
): Promise<RunResult> {
  const paths = runPaths(dir);
  const lock = acquireRunLock(paths.dir, { force: req.force, say: opts.say });
  try {
    checkChanges(paths.dir, saved, config, req.force ?? false, opts);
    if (alreadyDone(paths.dir, saved, config, opts)) {
      return { exitCode: EXIT.OK, runDir: paths.dir, outcome: 'skipped' };
    }
    if (diffConfigs(saved, config).length > 0) writeFileAtomic(paths.config, configToYaml(config));
    const meta = readMeta(paths.dir);
    return await execute(paths.dir, config, {
      ...opts,
      fresh: false,
      configFile: meta?.config_file ?? paths.config,
      smoke: meta?.smoke ?? false,
      forced: req.force ?? false,
    });
  } finally {
    lock.release();
  }
}

/**
 * A folder that cannot be written becomes one line naming it and what to do: a run with
 * a checkpoint can continue (its files so far are intact), a new one needs another place.
 */
function withHint(err: unknown, dir: string): unknown {
  const plain = storageError(err, { dir });
  if (!plain) return err;
  return storageError(err, { dir, hint: storageHint(plain, dir) }) as StorageError;
}

function storageHint(err: StorageError, dir: string): string {
  const resumable = existsSync(runPaths(dir).config) && listCheckpoints(runPaths(dir).checkpoints).length > 0;
  const shown = displayPath(dir);
  if (isFull(err))
    return resumable
      ? `the files written so far are intact: free some space, then: wtrain resume ${shown}`
      : 'free some space and start it again';
  return resumable
    ? `the files written so far are intact: copy ${shown} to a writable folder and resume the copy`
    : 'choose a writable place: --run-dir DIR or --set run.runs_root=DIR';
}
