import { EXIT } from './exit-codes.js';

interface Warn {
  warn(obj: object, msg?: string): void;
}

/**
 * First SIGINT/SIGTERM: ask the training loop to stop after the current step and write
 * a checkpoint. A second SIGINT (Ctrl-C again) exits at once with 130. A repeated SIGTERM
 * is ignored: Slurm may signal both a job script and its steps, and the checkpoint matters.
 */
export class StopSignal {
  requested: NodeJS.Signals | null = null;
  private handlers: [NodeJS.Signals, () => void][] = [];

  install(log?: Warn): this {
    for (const sig of ['SIGINT', 'SIGTERM'] as const) {
      const h = () => {
        if (this.requested && sig === 'SIGINT') {
          log?.warn({ signal: sig }, 'second SIGINT: exiting now without a checkpoint');
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
  }
}
