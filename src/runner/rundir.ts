import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { cpus, hostname } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFileAtomic } from './atomic.js';
import type { LearningRateInfo } from './lr.js';

/** Every file and folder of a run directory. */
export function runPaths(dir: string) {
  return {
    dir,
    config: path.join(dir, 'config.yaml'),
    meta: path.join(dir, 'meta.json'),
    status: path.join(dir, 'status.json'),
    lock: path.join(dir, 'run.lock'),
    metrics: path.join(dir, 'metrics.jsonl'),
    csv: path.join(dir, 'metrics.csv'),
    angles: path.join(dir, 'angles.jsonl'),
    events: path.join(dir, 'events.log'),
    checkpoints: path.join(dir, 'checkpoints'),
    report: path.join(dir, 'report'),
  };
}
export type RunPaths = ReturnType<typeof runPaths>;

export function timestamp(d = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

export function configStem(configFile: string): string {
  return path.basename(configFile).replace(/\.ya?ml$/i, '');
}

/**
 * The run directory: `--run-dir`/`run.run_dir` if given, else `<runs_root>/<name>` where
 * the name is `--name`, the config's `name:`, or `<config>[-smoke]-<yyyymmdd-hhmmss>`.
 * With `--resume auto` and no name the default drops the time (`<config>[-smoke]`), so
 * the same command finds the same run again.
 */
export function chooseRunDir(opts: {
  configFile: string;
  runsRoot: string;
  configRunDir: string | null;
  configName: string | null;
  name?: string;
  runDir?: string;
  stable: boolean;
  smoke: boolean;
  now?: Date;
}): string {
  if (opts.runDir) return path.resolve(opts.runDir);
  if (opts.configRunDir && !opts.name) return path.resolve(opts.configRunDir);
  const stem = configStem(opts.configFile) + (opts.smoke ? '-smoke' : '');
  const name = opts.name ?? opts.configName ?? (opts.stable ? stem : `${stem}-${timestamp(opts.now)}`);
  return path.resolve(opts.runsRoot, name);
}

export type RunState = 'running' | 'done' | 'failed' | 'interrupted';

export interface RunStatus {
  status: RunState;
  pid: number;
  host: string;
  updated: string;
  epoch: number;
  step: number;
  best_val_top1: number | null;
  /** Why it stopped (failed/interrupted). */
  message?: string;
  exit_code?: number;
}

export function readStatus(dir: string): RunStatus | undefined {
  try {
    return JSON.parse(readFileSync(runPaths(dir).status, 'utf8'));
  } catch {
    return undefined;
  }
}

export function writeStatus(dir: string, s: Omit<RunStatus, 'pid' | 'host' | 'updated'>): void {
  const full: RunStatus = { ...s, pid: process.pid, host: hostname(), updated: new Date().toISOString() };
  writeFileAtomic(runPaths(dir).status, `${JSON.stringify(full, null, 2)}\n`);
}

/**
 * Whether a process on this machine is alive. A zombie (exited, not yet reaped by its
 * parent, as after `kill -9` under a parent that never waits) still answers kill(pid, 0)
 * but is gone, so Linux's /proc state is checked too.
 */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  if (process.platform !== 'linux') return true; // kill(pid, 0) is all we know there
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false; // gone since kill(pid, 0)
  }
}

/** A `running` status whose process is gone (killed, crashed machine) reads as `failed`. */
export function effectiveState(s: RunStatus | undefined): RunState | 'unknown' {
  if (!s) return 'unknown';
  if (s.status !== 'running' || s.host !== hostname()) return s.status;
  return pidAlive(s.pid) ? 'running' : 'failed';
}

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export function wtrainVersion(): string {
  try {
    return JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version;
  } catch {
    return 'unknown';
  }
}

export function gitSha(): string | null {
  if (!existsSync(path.join(ROOT, '.git'))) return null;
  try {
    const sha = execFileSync('git', ['rev-parse', 'HEAD'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 5000,
    });
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 5000,
    });
    return sha.toString().trim() + (dirty.toString().trim() ? '-dirty' : '');
  } catch {
    return null;
  }
}

export interface RunMeta {
  wtrain_version: string;
  git_sha: string | null;
  seed: number;
  backend: { name: string; reason: string };
  node: string;
  host: string;
  platform: string;
  cpus: number;
  start_time: string;
  config_file: string;
  /** Folder that relative data paths are resolved against. */
  base_dir: string;
  smoke: boolean;
  argv: string[];
  /** The peak learning rate used (config.yaml keeps `lr: auto` as written). */
  learning_rate?: LearningRateInfo;
  /** One entry per resume: when, and from which checkpoint (null = from scratch). */
  resumes: {
    time: string;
    checkpoint: string | null;
    backend: string;
    forced: boolean;
    learning_rate?: LearningRateInfo;
  }[];
}

export function newMeta(
  p: Pick<RunMeta, 'seed' | 'backend' | 'config_file' | 'base_dir' | 'smoke' | 'learning_rate'>,
): RunMeta {
  return {
    wtrain_version: wtrainVersion(),
    git_sha: gitSha(),
    node: process.version,
    host: hostname(),
    platform: `${process.platform}-${process.arch}`,
    cpus: cpus().length,
    start_time: new Date().toISOString(),
    argv: process.argv.slice(2),
    resumes: [],
    ...p,
  };
}

export function readMeta(dir: string): RunMeta | undefined {
  try {
    return JSON.parse(readFileSync(runPaths(dir).meta, 'utf8'));
  } catch {
    return undefined;
  }
}

export function writeMeta(dir: string, meta: RunMeta): void {
  writeFileAtomic(runPaths(dir).meta, `${JSON.stringify(meta, null, 2)}\n`);
}

export function ensureRunDir(dir: string): RunPaths {
  const p = runPaths(dir);
  mkdirSync(p.checkpoints, { recursive: true });
  return p;
}
