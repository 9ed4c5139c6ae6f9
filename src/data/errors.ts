/**
 * Errors and bad-sample bookkeeping shared by every data source.
 *
 * Policy (issue 3): a bad *sample* (corrupt image, bad CRC, record without image or
 * label, unknown class...) is skipped, counted once and logged once with where it is;
 * a bad *dataset* (label out of range, shard that can't be opened, malformed header)
 * is a DataError naming the file. Nothing is ever relabelled.
 */
import { UserError } from '../util/errors.js';
import type { DataStats } from './types.js';

/** A problem with the data or the data config that the user must fix; printed without a stack. */
export class DataError extends UserError {
  constructor(message: string) {
    super(message, 2);
    this.name = 'DataError';
  }
}

export interface DataLogger {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

/** Why a sample was skipped. */
export type SkipReason =
  | 'corrupt_image'
  | 'unreadable_file'
  | 'not_an_image'
  | 'bad_crc'
  | 'truncated_shard'
  | 'missing_image'
  | 'missing_label'
  | 'bad_label'
  | 'bad_record'
  | 'unknown_class';

/**
 * Problems that drop no sample, counted apart from the skipped ones: an image decoded with
 * a decoder warning (kept, as PIL keeps it), a class folder with no images (the class keeps
 * its index).
 */
export type NoteReason = 'decode_warning' | 'empty_class';

/** A skipped sample: which rule it broke, where it is (file, tar member or record offset), details. */
export interface Skip {
  reason: SkipReason;
  where: string;
  detail?: string;
}

/** Something to report that dropped no sample (see NoteReason). */
export interface Note {
  reason: NoteReason;
  where: string;
  detail?: string;
}

/**
 * `file`, `file:member` (tar), `file @ byte N` (record offset) or `file [record i]`
 * (fixed-size records), as shown in logs and errors.
 */
export function where(file: string, at?: { member?: string; offset?: number; record?: number }): string {
  if (at?.member !== undefined) return `${file}:${at.member}`;
  if (at?.offset !== undefined) return `${file} @ byte ${at.offset}`;
  if (at?.record !== undefined) return `${file} [record ${at.record}]`;
  return file;
}

/**
 * Counts distinct skipped samples by reason and logs each place once. `count` lets one
 * entry stand for several samples (e.g. every file of an unknown class folder). Notes
 * (problems that drop nothing) are logged once too and counted apart, never as skipped.
 */
export class SkipLog {
  private readonly seen = new Set<string>();
  private readonly byReason: Record<string, number> = {};
  private readonly notes: Record<string, number> = {};
  private total = 0;

  constructor(private readonly logger?: DataLogger) {}

  /** Whether `reason` at `where` is new (and now seen). */
  private isNew(reason: string, where: string): boolean {
    const id = `${reason}\u0000${where}`;
    if (this.seen.has(id)) return false;
    this.seen.add(id);
    return true;
  }

  /** The first skip added, if any. */
  first?: Skip;

  add(skip: Skip, count = 1): void {
    if (!this.isNew(skip.reason, skip.where)) return;
    this.first ??= skip;
    this.total += count;
    this.byReason[skip.reason] = (this.byReason[skip.reason] ?? 0) + count;
    const extra = count > 1 ? { samples: count } : {};
    this.logger?.warn(
      { reason: skip.reason, file: skip.where, detail: skip.detail, ...extra },
      'data: skipped bad sample',
    );
  }

  note(note: Note): void {
    if (!this.isNew(note.reason, note.where)) return;
    this.notes[note.reason] = (this.notes[note.reason] ?? 0) + 1;
    const what =
      note.reason === 'decode_warning' ? 'image decoded with a warning, kept' : 'class folder without images';
    this.logger?.warn({ reason: note.reason, file: note.where, detail: note.detail }, `data: ${what}`);
  }

  stats(): DataStats {
    const out: DataStats = { skipped: this.total, byReason: { ...this.byReason } };
    if (Object.keys(this.notes).length) out.notes = { ...this.notes };
    return out;
  }
}

/** The message of an unknown thrown value. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
