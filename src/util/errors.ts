/**
 * Process exit codes of `wtrain` (documented in docs/runner.md). A Slurm requeue
 * script requeues on INTERRUPTED: a checkpoint was written and `--resume auto` continues.
 */
export const EXIT = {
  OK: 0,
  /** An unexpected error (a bug, an I/O failure): message and stack on stderr. */
  ERROR: 1,
  /** A user mistake: bad config or flag, missing file, existing run dir. One line per problem. */
  USAGE: 2,
  /** Training diverged: non-finite loss. The last good checkpoint is kept. */
  NAN: 3,
  /** Resume refused: training-relevant config fields changed (use --force). */
  RESUME_REFUSED: 4,
  /** Stopped by SIGINT/SIGTERM after writing a checkpoint (EX_TEMPFAIL): resume it. */
  INTERRUPTED: 75,
  /** A second SIGINT: exited at once, without a checkpoint (128 + 2). */
  SIGINT_FORCED: 130,
} as const;

/**
 * A mistake by the user (bad config, missing file, refused resume...). The CLI prints
 * `message` without a stack trace and exits with `exitCode`.
 */
export class UserError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.USAGE,
  ) {
    super(message);
    this.name = 'UserError';
  }
}
