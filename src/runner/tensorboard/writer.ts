import { closeSync, fsyncSync, openSync, readdirSync, readFileSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { type DecodedEvent, decodeEvent, encodeEvent } from './proto.js';
import { frameRecord, readRecords } from './tfrecord.js';

const PREFIX = 'events.out.tfevents.';

/** The seconds field of every events file in `dir` (TensorBoard reads them in name order). */
function eventFileSeconds(dir: string): number[] {
  return readdirSync(dir)
    .filter((f) => f.startsWith(PREFIX))
    .map((f) => Number(f.slice(PREFIX.length).split('.')[0]))
    .filter((s) => Number.isFinite(s));
}

/**
 * Writes TensorBoard scalar events to a new `events.out.tfevents.<seconds>.<host>.<pid>`
 * in `dir`, never to an existing file. TensorBoard reads a run's files in name order, so
 * a file opened in the same second as an earlier one (a quick resume) takes the next
 * second in its name and sorts after it.
 *
 * A resumed run (`resumedAt`: the batches done at its checkpoint, the x of the last point
 * it keeps) starts its file with a SessionLog START at `resumedAt + 1`, the first step
 * it can log: TensorBoard's event accumulator then drops every point at that step or
 * later read so far, which is exactly what the earlier process logged after the
 * checkpoint (the loop logs nothing at a checkpoint's step after writing it). A run
 * started afresh in a folder that already has events files (`--resume auto` with no
 * checkpoint) starts with a START at step 0, dropping all of them.
 */
export class TensorBoardWriter {
  readonly file: string;
  private fd: number;

  constructor(dir: string, resumedAt = 0, now = Date.now()) {
    const earlier = eventFileSeconds(dir);
    let seconds = Math.max(Math.floor(now / 1000), ...earlier.map((s) => s + 1));
    for (;;) {
      this.file = path.join(
        dir,
        `${PREFIX}${String(seconds).padStart(10, '0')}.${hostname()}.${process.pid}`,
      );
      try {
        this.fd = openSync(this.file, 'wx');
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        seconds++;
      }
    }
    this.write(encodeEvent({ wallTime: now / 1000, step: 0, fileVersion: 'brain.Event:2' }));
    if (resumedAt > 0 || earlier.length > 0) {
      const step = resumedAt > 0 ? resumedAt + 1 : 0;
      this.write(encodeEvent({ wallTime: now / 1000, step, sessionStart: true }));
    }
  }

  private write(payload: Uint8Array): void {
    writeSync(this.fd, frameRecord(payload));
  }

  /** One event with several scalars at `step` (non-finite values are skipped). */
  scalars(
    step: number,
    values: Record<string, number | null | undefined>,
    wallTime = Date.now() / 1000,
  ): void {
    const scalars = Object.entries(values)
      .filter((e): e is [string, number] => typeof e[1] === 'number' && Number.isFinite(e[1]))
      .map(([tag, value]) => ({ tag, value }));
    if (scalars.length > 0) this.write(encodeEvent({ wallTime, step, scalars }));
  }

  flush(): void {
    fsyncSync(this.fd);
  }

  close(): void {
    if (this.fd < 0) return;
    closeSync(this.fd);
    this.fd = -1;
  }
}

/** Read back every event of a file (CRCs checked). */
export function readEventFile(file: string): DecodedEvent[] {
  return readRecords(readFileSync(file)).map(decodeEvent);
}
