import { EXIT } from '../util/errors.js';

interface Warn {
  warn(obj: object, msg?: string): void;
}

/** How often the parent process is checked for (see StopSignal). */
const PARENT_POLL_MS = 1000;

/**
 * First SIGINT/SIGTERM/SIGHUP: ask the training loop to stop after the current step and
 * write a checkpoint. A second SIGINT (Ctrl-C again) exits at once with 130. A repeated
 * SIGTERM is ignored: Slurm may signal both a job script and its steps, and the
 * checkpoint matters. The parent process exiting counts as a SIGHUP: `npx wtrain` runs
 * node under npm and sh, and a SIGTERM sent to npx kills those two but not node, which
 * would otherwise train on as an orphan, past the stop it was asked for.
 */
export class StopSignal {
  requested: NodeJS.Signals | null = null;
  /** Called just before a second SIGINT exits the process (the runner records it in status.json). */
  onForcedExit: (() => void) | null = null;
  private handlers: [NodeJS.Signals, () => void][] = [];
  private parentWatch: NodeJS.Timeout | null = null;

  install(log?: Warn): this {
    const parent = process.ppid;
    this.parentWatch = setInterval(() => {
      if (process.ppid === parent || this.requested) return;
      this.requested = 'SIGHUP';
      log?.warn({ parent }, `parent process ${parent} exited: finishing the step, then writing a checkpoint`);
    }, PARENT_POLL_MS).unref();
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
      const h = () => {
        if (this.requested && sig === 'SIGINT') {
          log?.warn({ signal: sig }, 'second SIGINT: exiting now without a checkpoint');
          try {
            this.onForcedExit?.();
          } catch {} // exiting regardless: the lock goes with the process ('exit' handlers)
          process.exit(EXIT.SIGINT_FORCED);
        }
        if (this.requested) {
          log?.warn({ signal: sig }, `${sig}: already stopping, the checkpoint is on its way`);
          return;
        }
        this.requested = sig;
        const again = sig === 'SIGINT' ? ' (Ctrl-C again to exit at once)' : '';
        log?.warn({ signal: sig }, `${sig}: finishing the step, then writing a checkpoint${again}`);
      };
      process.on(sig, h);
      this.handlers.push([sig, h]);
    }
    return this;
  }

  /** Ask for a stop without a signal (tests). */
  request(sig: NodeJS.Signals = 'SIGTERM'): void {
    this.requested = sig;
  }

  uninstall(): void {
    for (const [sig, h] of this.handlers) process.off(sig, h);
    this.handlers = [];
    if (this.parentWatch) clearInterval(this.parentWatch);
    this.parentWatch = null;
  }
}
