/**
 * `wtrain run` and `wtrain resume` as library functions: choose the run directory,
 * decide between a fresh start and a resume, then train and record.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { classifyChanges, diffConfigs, formatChange } from '../config/diff.js';
import { UserError } from '../config/errors.js';
import { configToYaml, displayPath, loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { writeFileAtomic } from './atomic.js';
import { type ExecuteOptions, execute, type RunResult } from './execute.js';
import { EXIT } from './exit-codes.js';
import { chooseRunDir, effectiveState, ensureRunDir, readMeta, readStatus, runPaths } from './rundir.js';

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
  return existsSync(file) ? loadConfig(file).config : undefined;
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
  const saved = savedConfig(dir);
  if (saved) {
    const state = effectiveState(readStatus(dir));
    if (!auto) {
      throw new UserError(
        `run directory ${displayPath(dir)} already exists (${state}): use --resume auto to continue it, ` +
          'or --name/--run-dir for a new run',
      );
    }
    if (state === 'running') throw new UserError(`run ${displayPath(dir)} is running (pid in status.json)`);
    checkChanges(dir, saved, config, req.force ?? false, opts);
    if (
      state === 'done' &&
      classifyChanges(saved, config).relevant.length === 0 &&
      sameLength(saved, config)
    ) {
      opts.say?.(`${displayPath(dir)}: already done, nothing to do`);
      return { exitCode: EXIT.OK, runDir: dir, outcome: 'skipped' };
    }
  }
  ensureRunDir(dir);
  writeFileAtomic(runPaths(dir).config, configToYaml(config));
  return execute(dir, config, {
    ...opts,
    fresh: !saved,
    configFile: path.resolve(req.configFile),
    smoke: loaded.smoke,
    forced: req.force ?? false,
  });
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
  const state = effectiveState(readStatus(paths.dir));
  if (state === 'running')
    throw new UserError(`run ${displayPath(paths.dir)} is running (pid in status.json)`);
  const saved = loadConfig(paths.config).config;
  const config = loadConfig(paths.config, { sets: req.sets }).config;
  checkChanges(paths.dir, saved, config, req.force ?? false, opts);
  if (diffConfigs(saved, config).length > 0) writeFileAtomic(paths.config, configToYaml(config));
  const meta = readMeta(paths.dir);
  return execute(paths.dir, config, {
    ...opts,
    fresh: false,
    configFile: meta?.config_file ?? paths.config,
    smoke: meta?.smoke ?? false,
    forced: req.force ?? false,
  });
}
