/**
 * A run location that cannot be written (read-only, no permission, full disk, quota) is
 * something the user fixes, not a bug: one line naming the file, its folder and the
 * cause, exit 2, no stack trace. Every write of a run goes through fs calls whose errors
 * name the file (those that write through a descriptor add it with `withPath`), so one
 * conversion at the command boundary covers them all.
 */
import { accessSync, constants, existsSync } from 'node:fs';
import path from 'node:path';
import { displayPath } from '../config/load.js';
import { EXIT, UserError } from '../util/errors.js';

type Errno = NodeJS.ErrnoException;

/** System calls that only read: a refusal there is no write error. */
const READS = new Set(['read', 'scandir', 'opendir', 'stat', 'lstat', 'access', 'readlink']);

const CAUSES: Record<string, (folder: string) => string> = {
  EACCES: (f) => `no permission to write in ${f}`,
  EPERM: (f) => `not permitted to write in ${f}`,
  EROFS: (f) => `${f} is on a read-only file system`,
  ENOSPC: (f) => `no space left on the device holding ${f}`,
  EDQUOT: (f) => `disk quota exceeded for ${f}`,
  ENOTDIR: () => 'a part of the path is a file, not a folder',
};

export class StorageError extends UserError {
  constructor(
    message: string,
    readonly code: string,
    readonly file: string,
  ) {
    super(message, EXIT.USAGE);
    this.name = 'StorageError';
  }
}

/** Attach the file to an fs error raised through a descriptor (writeSync has no path). */
export function withPath(err: unknown, file: string): unknown {
  const e = err as Errno;
  if (e && typeof e === 'object' && e.code && !e.path) e.path = file;
  return err;
}

/** The nearest folder at or above `p` that exists. */
function existingAncestor(p: string): string {
  let dir = p;
  while (!existsSync(dir) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return dir;
}

/**
 * The real cause of a failed recursive mkdir: Node reports ENOENT when a parent cannot
 * be created on a read-only file system; asking the nearest existing folder tells why.
 */
function realCode(e: Errno, file: string): { code: string; folder: string } {
  if (e.syscall === 'mkdir') {
    const folder = existingAncestor(path.dirname(file));
    if (e.code === 'ENOENT' || e.code === 'EACCES' || e.code === 'EROFS') {
      try {
        accessSync(folder, constants.W_OK);
      } catch (probe) {
        return { code: (probe as Errno).code ?? e.code ?? 'ENOENT', folder };
      }
    }
    return { code: e.code ?? 'ENOENT', folder };
  }
  return { code: e.code ?? '', folder: path.dirname(file) };
}

/**
 * A StorageError for an fs error that says the location cannot be written, else
 * undefined. `dir` names the folder when the error carries no path; `hint` says what to do.
 */
export function storageError(
  err: unknown,
  opts: { dir?: string; hint?: string } = {},
): StorageError | undefined {
  if (err instanceof StorageError) return err;
  const e = err as Errno;
  if (!e || typeof e !== 'object' || typeof e.code !== 'string') return undefined;
  const file = e.path ?? opts.dir;
  if (!file) return CAUSES[e.code] ? new StorageError(`cannot write: ${e.message}`, e.code, '') : undefined;
  if (e.syscall && READS.has(e.syscall) && (e.code === 'EACCES' || e.code === 'EPERM')) {
    // A read refused (a labels file, a data folder): say so, not "cannot write".
    return new StorageError(`cannot read ${displayPath(file)}: no permission (${e.code})`, e.code, file);
  }
  const { code, folder } = realCode(e, file);
  const cause = CAUSES[code];
  if (!cause && !(e.syscall === 'mkdir' && code === 'EEXIST')) return undefined;
  const why = cause ? cause(displayPath(folder)) : `${displayPath(file)} exists and is not a folder`;
  const what = e.syscall === 'mkdir' ? 'cannot create folder' : 'cannot write';
  const where = e.path ? displayPath(file) : `in ${displayPath(file)}`;
  const hint = opts.hint ? `; ${opts.hint}` : '';
  return new StorageError(`${what} ${where}: ${why} (${code})${hint}`, code, file);
}

/** Whether the cause is a lack of space (the run can continue once there is some). */
export function isFull(err: StorageError): boolean {
  return err.code === 'ENOSPC' || err.code === 'EDQUOT';
}
