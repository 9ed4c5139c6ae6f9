import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';

/** fsync a directory so a rename inside it is durable (a no-op where directories can't be opened). */
export function fsyncDir(dir: string): void {
  let fd = -1;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Some platforms (Windows) can't fsync directories; the rename is still atomic.
  } finally {
    if (fd >= 0) closeSync(fd);
  }
}

/**
 * Write `chunks` to `file` so that readers see either the old file or the complete new
 * one, never a partial write: temp file in the same directory, fsync, rename, fsync dir.
 * A failure (no space, read-only folder) leaves the old file as it was and removes the
 * temp file; the error names `file` (not the temp file) so messages point at what failed.
 */
export function writeFileAtomic(file: string, chunks: Uint8Array | string | (Uint8Array | string)[]): void {
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.tmp`);
  try {
    const fd = openSync(tmp, 'w');
    let open = true;
    try {
      for (const c of Array.isArray(chunks) ? chunks : [chunks]) {
        const bytes = typeof c === 'string' ? Buffer.from(c) : c;
        let off = 0;
        while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
      }
      fsyncSync(fd);
      open = false;
      closeSync(fd);
      renameSync(tmp, file);
    } catch (err) {
      if (open) closeSync(fd);
      rmSync(tmp, { force: true });
      throw err;
    }
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e && typeof e === 'object' && (e.path === undefined || e.path === tmp)) e.path = file;
    throw err;
  }
  fsyncDir(dir);
}
