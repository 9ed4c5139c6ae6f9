import cliProgress from 'cli-progress';
import type { ConsoleStream } from './logger.js';
import type { MetricsRecord } from './metrics-log.js';

export type ProgressMode = 'bars' | 'lines' | 'none';

export function progressMode(setting: 'auto' | ProgressMode, quiet: boolean, isTTY: boolean): ProgressMode {
  if (quiet) return 'none';
  if (setting === 'auto') return isTTY ? 'bars' : 'lines';
  return setting;
}

export interface EpochInfo {
  epoch: number;
  epochs: number;
  batches: number;
  startBatch: number;
}

/** What people see while training: bars on a TTY, one log line per interval elsewhere. */
export interface Progress {
  startEpoch(info: EpochInfo): void;
  /** After every batch (mirror or engaged), or every val batch while evaluating. */
  tick(batch: number, phase: 'train' | 'mirror' | 'eval'): void;
  /** An evaluation of `batches` val batches starts (ticks count them from 0). */
  startEval(batches: number): void;
  /** A metrics record was written (log interval or epoch end). */
  record(rec: MetricsRecord): void;
  stop(): void;
}

const NO_NUMBERS = { loss: '-', top1: '-', imgs: '-' };

const pct = (x: number | null) => (x === null ? '  -  ' : `${(100 * x).toFixed(1)}%`);

/** Lines mode and quiet mode: the loop's pino lines are all there is. */
class NoProgress implements Progress {
  startEpoch(): void {}
  tick(): void {}
  startEval(): void {}
  record(): void {}
  stop(): void {}
}

class BarProgress implements Progress {
  private multi: cliProgress.MultiBar;
  private bar: cliProgress.SingleBar | null = null;
  private last = { loss: '-', top1: '-', imgs: '-' };

  constructor(
    private readonly console: ConsoleStream,
    stream?: NodeJS.WritableStream,
  ) {
    this.multi = new cliProgress.MultiBar(
      {
        ...(stream ? { stream, noTTYOutput: true } : {}),
        format:
          'epoch {epoch} {phase} |{bar}| {value}/{total} | loss {loss} | top-1 {top1} | {imgs} img/s | ETA {eta_formatted}',
        hideCursor: true,
        clearOnComplete: false,
        stopOnComplete: false,
        etaBuffer: 50,
        fps: 5,
      },
      cliProgress.Presets.shades_classic,
    );
    console.sink = (line) => this.multi.log(line);
    console.filter = (o) => o.kind !== 'step' && o.kind !== 'epoch';
  }

  startEpoch(info: EpochInfo): void {
    this.bar?.stop();
    this.bar = this.multi.create(info.batches, info.startBatch, {
      epoch: `${info.epoch + 1}/${Math.ceil(info.epochs)}`,
      phase: 'train ',
      ...this.last,
    });
  }

  tick(batch: number, phase: 'train' | 'mirror' | 'eval'): void {
    this.bar?.update(batch, { phase: phase.padEnd(6), ...(phase === 'eval' ? NO_NUMBERS : this.last) });
  }

  /** The epoch's bar counts val batches now; train numbers are not eval numbers, so none show. */
  startEval(batches: number): void {
    this.bar?.setTotal(batches);
    this.tick(0, 'eval');
  }

  record(rec: MetricsRecord): void {
    if (rec.train_loss !== null) this.last.loss = rec.train_loss.toFixed(3);
    if (rec.train_top1 !== null) this.last.top1 = pct(rec.train_top1);
    if (rec.img_per_s !== null) this.last.imgs = rec.img_per_s.toFixed(0);
    if (rec.kind === 'epoch') {
      const t = new Date().toTimeString().slice(0, 8);
      this.multi.log(
        `${t} epoch ${rec.epoch}: loss ${this.last.loss}, train top-1 ${pct(rec.train_top1)}, ` +
          `val top-1 ${pct(rec.val_top1)}, val top-5 ${pct(rec.val_top5)}\n`,
      );
      this.multi.update(); // flush the log line now
    }
  }

  stop(): void {
    this.multi.update();
    this.multi.stop();
    this.console.sink = null;
    this.console.filter = null;
  }
}

/** `stream`: where bars go (default stderr, and only on a terminal). */
export function createProgress(
  mode: ProgressMode,
  console: ConsoleStream,
  stream?: NodeJS.WritableStream,
): Progress {
  return mode === 'bars' ? new BarProgress(console, stream) : new NoProgress();
}

/** `batches` as they are handed out, calling `tick` with how many have been taken so far. */
export async function* counting<T>(batches: AsyncIterable<T>, tick: (n: number) => void): AsyncGenerator<T> {
  let n = 0;
  for await (const b of batches) {
    yield b;
    tick(++n);
  }
}
