import { closeSync, existsSync, openSync, statSync, truncateSync, writeSync } from 'node:fs';
import path from 'node:path';
import { UserError } from '../util/errors.js';
import { withPath } from './storage.js';

/** One line of metrics.jsonl. Errors are fractions in [0, 1]; val_* are null when not evaluated. */
export interface MetricsRecord {
  kind: 'step' | 'epoch';
  /** `train` or `mirror` (WM's mirror-only warm-up). */
  phase: 'train' | 'mirror';
  /** Optimiser steps so far. */
  step: number;
  /** Epochs so far (fractional inside an epoch). */
  epoch: number;
  /** Mirror-mode steps so far (WM only). */
  mirror_steps: number;
  train_loss: number | null;
  train_top1: number | null;
  train_top5: number | null;
  val_loss: number | null;
  val_top1: number | null;
  val_top5: number | null;
  lr: number;
  img_per_s: number | null;
  data_wait: number | null;
  skipped: number;
  wall_s: number;
}

/** Fields that depend on the machine's speed, not on the learning (ignored when comparing runs). */
export const TIMING_FIELDS = ['img_per_s', 'data_wait', 'wall_s'] as const;

export const CSV_COLUMNS = [
  'epoch',
  'step',
  'train_loss',
  'train_top1',
  'train_top5',
  'val_loss',
  'val_top1',
  'val_top5',
  'lr',
  'img_per_s',
  'data_wait',
  'skipped',
  'wall_s',
] as const;

export interface AngleRecord {
  step: number;
  epoch: number;
  phase: 'train' | 'mirror';
  layer: string;
  index: number;
  /** Degrees; NaN in memory and null in angles.jsonl where the rule has no matrix (DFA below its head). */
  matrix_angle: number | null;
  delta_angle: number;
}

export const LOG_FILES = {
  metrics: 'metrics.jsonl',
  csv: 'metrics.csv',
  angles: 'angles.jsonl',
} as const;
export type LogFile = keyof typeof LOG_FILES;

/** An append-only text file whose size can be saved in a checkpoint and restored by truncation. */
class AppendFile {
  private fd: number;
  size: number;
  constructor(readonly file: string) {
    this.fd = openSync(file, 'a');
    this.size = statSync(file).size;
  }
  append(text: string): void {
    const b = Buffer.from(text);
    let off = 0;
    try {
      while (off < b.length) off += writeSync(this.fd, b, off, b.length - off);
    } catch (err) {
      throw withPath(err, this.file); // a torn last line is cut off again by the next resume
    } finally {
      this.size += off;
    }
  }
  close(): void {
    closeSync(this.fd);
  }
}

/** Writes metrics.jsonl, metrics.csv (one row per epoch) and angles.jsonl in a run directory. */
export class MetricsLog {
  private files: Record<LogFile, AppendFile>;

  /** `restore`: byte sizes saved in a checkpoint; files are cut back to them (dropping what came after). */
  constructor(dir: string, restore?: Partial<Record<LogFile, number>>) {
    for (const [k, name] of Object.entries(LOG_FILES)) {
      const f = path.join(dir, name);
      const size = restore?.[k as LogFile];
      if (existsSync(f) && size !== undefined && statSync(f).size > size) truncateSync(f, size);
    }
    this.files = {
      metrics: new AppendFile(path.join(dir, LOG_FILES.metrics)),
      csv: new AppendFile(path.join(dir, LOG_FILES.csv)),
      angles: new AppendFile(path.join(dir, LOG_FILES.angles)),
    };
  }

  sizes(): Record<LogFile, number> {
    return { metrics: this.files.metrics.size, csv: this.files.csv.size, angles: this.files.angles.size };
  }

  write(rec: MetricsRecord): void {
    this.files.metrics.append(`${JSON.stringify(rec)}\n`);
    if (rec.kind !== 'epoch') return;
    if (this.files.csv.size === 0) this.files.csv.append(`${CSV_COLUMNS.join(',')}\n`);
    this.files.csv.append(`${CSV_COLUMNS.map((c) => rec[c] ?? '').join(',')}\n`);
  }

  writeAngles(recs: AngleRecord[]): void {
    if (recs.length > 0) this.files.angles.append(recs.map((r) => `${JSON.stringify(r)}\n`).join(''));
  }

  close(): void {
    for (const f of Object.values(this.files)) f.close();
  }
}

/** Parse a JSON-lines file, ignoring a torn last line (e.g. after a crash). */
export function readJsonl<T>(file: string, text: string): T[] {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const out: T[] = [];
  lines.forEach((l, i) => {
    try {
      out.push(JSON.parse(l));
    } catch (err) {
      // A torn last line is what a killed writer leaves; anything else is damage.
      if (i < lines.length - 1) throw new UserError(`${file}:${i + 1}: ${(err as Error).message}`);
    }
  });
  return out;
}
