/**
 * One process per run directory: `run.lock`, created exclusively before anything in the
 * directory is written and removed when the process ends. A lock whose process is gone
 * (killed, crashed) is taken over. A process on another machine (a cluster's shared file
 * system) cannot be checked from here, so its lock counts as held while the holder keeps
 * touching it (every HEARTBEAT_MS) and as stale once it has not for STALE_MS (the node
 * died: Slurm's requeue must not be refused); `--force` takes over a fresh one.
 */
import { closeSync, openSync, readFileSync, statSync, unlinkSync, utimesSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { displayPath } from '../config/load.js';
import { UserError } from '../util/errors.js';
import { pidAlive, runPaths } from './rundir.js';

export interface LockOwner {
  pid: number;
  host: string;
  started: string;
}

/** A lock file half-written by a process that died at once is stale after this long. */
const UNREADABLE_STALE_MS = 10_000;
/** How often the holder refreshes the lock's modification time. */
const HEARTBEAT_MS = 30_000;
/** Another machine's lock not refreshed for this long is stale (its process is gone). */
export const STALE_MS = 5 * 60_000;

function readOwner(file: string): LockOwner | 'unreadable' | 'gone' {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return 'gone';
  }
  try {
    const o = JSON.parse(text);
    if (typeof o.pid === 'number' && typeof o.host === 'string') return o;
  } catch {}
  return 'unreadable';
}

function describe(o: LockOwner): string {
  return `pid ${o.pid} on ${o.host === hostname() ? 'this machine' : `host ${o.host}`} since ${o.started}`;
}

export class RunLock {
  private readonly onExit = () => this.release();
  private readonly heartbeat: NodeJS.Timeout;
  constructor(
    readonly file: string,
    private readonly owner: LockOwner,
    heartbeatMs = HEARTBEAT_MS,
  ) {
    process.on('exit', this.onExit);
    this.heartbeat = setInterval(() => {
      try {
        const now = new Date();
        utimesSync(file, now, now);
      } catch {}
    }, heartbeatMs).unref();
  }

  /** Remove the lock (only if it is still ours). */
  release(): void {
    process.off('exit', this.onExit);
    clearInterval(this.heartbeat);
    const now = readOwner(this.file);
    if (typeof now === 'object' && now.pid === this.owner.pid && now.host === this.owner.host) {
      try {
        unlinkSync(this.file);
      } catch {}
    }
  }
}

function tryCreate(file: string, owner: LockOwner): boolean {
  let fd: number;
  try {
    fd = openSync(file, 'wx');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  try {
    writeSync(fd, `${JSON.stringify(owner)}\n`);
  } finally {
    closeSync(fd);
  }
  return true;
}

/**
 * Take the run directory's lock or refuse (exit 2) while another process holds it.
 * `force` takes over a lock held from another machine; `say` reports takeovers.
 */
export function acquireRunLock(
  dir: string,
  opts: { force?: boolean; say?: (line: string) => void; heartbeatMs?: number } = {},
): RunLock {
  const file = runPaths(dir).lock;
  const owner: LockOwner = { pid: process.pid, host: hostname(), started: new Date().toISOString() };
  for (let attempt = 0; attempt < 2; attempt++) {
    if (tryCreate(file, owner)) return new RunLock(file, owner, opts.heartbeatMs);
    const held = readOwner(file);
    if (held === 'gone') continue;
    if (held === 'unreadable') {
      const mtime = statSync(file, { throwIfNoEntry: false })?.mtimeMs;
      if (mtime !== undefined && Date.now() - mtime < UNREADABLE_STALE_MS) {
        throw new UserError(`run ${displayPath(dir)} is starting in another process (${displayPath(file)})`);
      }
    } else if (held.host === hostname()) {
      if (pidAlive(held.pid)) throw new UserError(`run ${displayPath(dir)} is running: ${describe(held)}`);
    } else {
      const mtime = statSync(file, { throwIfNoEntry: false })?.mtimeMs ?? 0;
      const idle = Math.round((Date.now() - mtime) / 1000);
      if (idle * 1000 < STALE_MS && !opts.force) {
        throw new UserError(
          `run ${displayPath(dir)} is running: ${describe(held)} (its lock ${displayPath(file)} was ` +
            `refreshed ${idle} s ago; it counts as stale after ${STALE_MS / 1000} s). If that process is gone, ` +
            'add --force to take the run over',
        );
      }
      const why = idle * 1000 < STALE_MS ? '--force' : `not refreshed for ${idle} s`;
      opts.say?.(`warning: taking over ${displayPath(dir)} from ${describe(held)} (${why})`);
    }
    // Remove the stale lock only if it is still the one judged stale (another process
    // starting at the same moment may have replaced it already).
    if (JSON.stringify(readOwner(file)) !== JSON.stringify(held)) continue;
    try {
      unlinkSync(file);
    } catch {}
  }
  throw new UserError(`run ${displayPath(dir)} was taken by another process while starting`);
}
