import { openSync } from 'node:fs';
import { Writable } from 'node:stream';
import pino from 'pino';
import { withPath } from './storage.js';

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';

const LEVEL_NAMES: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};
const HIDDEN = new Set(['level', 'time', 'pid', 'hostname', 'msg']);

/** `12:01:02 WARN message key=value ...` from one pino JSON line (for people at a terminal). */
export function humanLine(json: string): string {
  try {
    const o = JSON.parse(json);
    const t = new Date(o.time ?? Date.now()).toTimeString().slice(0, 8);
    const extra = Object.entries(o)
      .filter(([k]) => !HIDDEN.has(k))
      .map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : v}`)
      .join(' ');
    return `${t} ${LEVEL_NAMES[o.level] ?? o.level} ${o.msg ?? ''}${extra ? ` ${extra}` : ''}`;
  } catch {
    return json.trimEnd();
  }
}

function safeParse(line: string): Record<string, unknown> {
  try {
    return JSON.parse(line);
  } catch {
    return {};
  }
}

/** Console output: pino JSON lines (scripts, Slurm) or human lines routed through a sink (progress bars). */
export class ConsoleStream extends Writable {
  sink: ((line: string) => void) | null = null;
  /** In human mode, records for which this returns false are not shown (bars show them). */
  filter: ((record: Record<string, unknown>) => boolean) | null = null;
  constructor(private readonly human: boolean) {
    super();
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    const text = chunk.toString();
    if (!this.human) process.stderr.write(text);
    else {
      for (const l of text.split('\n').filter(Boolean)) {
        if (this.filter && !this.filter(safeParse(l))) continue;
        if (this.sink) this.sink(`${humanLine(l)}\n`);
        else process.stderr.write(`${humanLine(l)}\n`);
      }
    }
    done();
  }
}

export interface RunLogger {
  logger: pino.Logger;
  console: ConsoleStream;
  /** Start also writing to `events.log` (JSON, at least `info`). */
  addFile(file: string): void;
  /** Writes to `events.log` only (what the console already says in its own words). */
  fileOnly: pino.Logger;
}

/**
 * A pino logger writing to stderr (`--log-level`, `--quiet` = warnings and errors only)
 * and, once the run directory exists, to `events.log`.
 */
export function createRunLogger(opts: { level: LogLevel; quiet: boolean; human: boolean }): RunLogger {
  const consoleLevel: LogLevel = opts.quiet && opts.level !== 'silent' ? 'warn' : opts.level;
  const fileLevel: LogLevel = ['trace', 'debug'].includes(opts.level) ? opts.level : 'info';
  const consoleStream = new ConsoleStream(opts.human);
  const multi = pino.multistream(
    consoleLevel === 'silent' ? [] : [{ level: consoleLevel, stream: consoleStream }],
  );
  const logger = pino({ level: 'trace', base: undefined }, multi);
  const files = pino.multistream([]);
  return {
    logger,
    console: consoleStream,
    fileOnly: pino({ level: 'trace', base: undefined }, files),
    addFile(file) {
      // Opened here so that a folder that cannot be written fails now, naming the file;
      // a later write error (a full disk) is thrown from the log call, naming it too.
      const dest = pino.destination({ dest: openSync(file, 'a'), sync: true });
      dest.on('error', (err) => {
        throw withPath(err, file);
      });
      multi.add({ level: fileLevel, stream: dest });
      files.add({ level: fileLevel, stream: dest });
    },
  };
}
