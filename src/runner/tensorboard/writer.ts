import { closeSync, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { type DecodedEvent, decodeEvent, encodeEvent } from './proto.js';
import { frameRecord, readRecords } from './tfrecord.js';

/**
 * Appends TensorBoard scalar events to `events.out.tfevents.<unix-seconds>.<host>` in
 * `dir`. A resumed run opens a new file that starts with a SessionLog START at its
 * first step, so TensorBoard discards the abandoned tail of earlier files.
 */
export class TensorBoardWriter {
  readonly file: string;
  private fd: number;

  constructor(dir: string, startStep = 0, now = Date.now()) {
    this.file = path.join(dir, `events.out.tfevents.${Math.floor(now / 1000)}.${hostname()}.${process.pid}`);
    this.fd = openSync(this.file, 'a');
    this.write(encodeEvent({ wallTime: now / 1000, step: 0, fileVersion: 'brain.Event:2' }));
    if (startStep > 0) this.write(encodeEvent({ wallTime: now / 1000, step: startStep, sessionStart: true }));
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
