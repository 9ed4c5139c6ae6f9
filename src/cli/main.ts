/** `wtrain`'s entry point: parse the command line, run a command, map errors to exit codes. */
import { Command, CommanderError, Option } from 'commander';
import { wtrainVersion } from '../runner/rundir.js';
import { StackMissingError } from '../runner/stack.js';
import { storageError } from '../runner/storage.js';
import { EXIT, UserError } from '../util/errors.js';
import { type Exit, registerCommands } from './commands.js';
import { registerDataCommands } from './data.js';
import { registerStudyCommands } from './study.js';

export async function buildProgram(exit: Exit): Promise<Command> {
  const program = new Command('wtrain')
    .description('Deep Learning without Weight Transport (Akrout et al. 2019) on TensorFlow.js')
    .version(wtrainVersion())
    .addOption(
      new Option('--log-level <level>', 'log level')
        .choices(['trace', 'debug', 'info', 'warn', 'error', 'silent'])
        .default('info'),
    )
    .option('-q, --quiet', 'no progress, only warnings and errors')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  registerCommands(program, exit);
  registerStudyCommands(program, exit);
  registerDataCommands(program);
  const override = (cmd: Command): void => {
    cmd.exitOverride();
    cmd.commands.forEach(override);
  };
  override(program);
  return program;
}

/** Run the CLI on `argv` (as process.argv) and return the exit code; never throws. */
export async function main(argv: string[]): Promise<number> {
  const exit: Exit = { code: EXIT.OK };
  try {
    const program = await buildProgram(exit);
    await program.parseAsync(argv);
    return exit.code;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version exit 0; commander has already printed usage errors.
      return err.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
    }
    // A user's mistake, or a folder that cannot be written (read-only, full): one line.
    const user = err instanceof UserError ? err : storageError(err);
    if (user) {
      process.stderr.write(`${user.message}\n`);
      return user.exitCode;
    }
    if (err instanceof StackMissingError) {
      process.stderr.write(`wtrain: ${err.message}\n`);
      return EXIT.ERROR;
    }
    process.stderr.write(`wtrain: internal error: ${(err as Error)?.stack ?? String(err)}\n`);
    return EXIT.ERROR;
  }
}
