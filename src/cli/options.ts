import { type Command, InvalidArgumentError, Option } from 'commander';
import type { ExecuteOptions } from '../runner/execute.js';
import type { LogLevel } from '../runner/logger.js';

export const collect = (value: string, previous: string[] = []) => [...previous, value];

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

/** Options shared by `run` and `resume`. */
export function addTrainingOptions(cmd: Command): Command {
  return cmd
    .option(
      '--set <key=value>',
      'override a config key (repeatable), e.g. --set model.width=0.5',
      collect,
      [],
    )
    .option('--force', 'resume even if training-relevant config fields changed')
    .addOption(new Option('--progress <mode>', 'progress display').choices(['auto', 'bars', 'lines', 'none']))
    .option('--no-report', 'do not render report/ at the end');
}

/** ExecuteOptions from the global and training options of a command. */
export function executeOptions(cmd: Command): ExecuteOptions {
  const o = cmd.optsWithGlobals();
  return {
    logLevel: o.logLevel as LogLevel,
    quiet: Boolean(o.quiet),
    progress: o.progress,
    report: o.report === false ? false : undefined,
    signals: true,
    say: (line) => process.stdout.write(`${line}\n`),
  };
}
