/** `wtrain study ...`: run, follow and render a study (a set of runs over one base config). */
import path from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import { UserError } from '../util/errors.js';
import type { Exit } from './commands.js';
import { collect, positiveInt } from './options.js';

function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n))
    throw new InvalidArgumentError('expected 0, 1, 2, ...');
  return n;
}

const out = (line: string) => process.stdout.write(`${line}\n`);

/** A POSIX shell word: quoted only when it must be. */
function shellWord(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", "'\\''")}'`;
}

export function registerStudyCommands(program: Command, exit: Exit): void {
  const study = program
    .command('study')
    .description(
      'run, follow and render a study: a set of runs (rules × seeds × settings) over one base config',
    );

  const load = async (file: string, o: { out?: string }) => {
    const { loadStudy } = await import('../study/definition.js');
    return loadStudy(file, { out: o.out });
  };

  study
    .command('run')
    .description('run every run of the study that is not done (or continue it), N at a time')
    .argument('<study>', 'study file (see studies/)')
    .option(
      '-j, --jobs <n>',
      'runs at once, each its own process (several small runs share one GPU)',
      positiveInt,
      1,
    )
    .option(
      '--only <runs>',
      'only these runs: names, variants or indices (comma-separated, repeatable)',
      collect,
      [],
    )
    .option(
      '--index <i>',
      'only the i-th run (0-based; for a Slurm array: $SLURM_ARRAY_TASK_ID)',
      nonNegativeInt,
    )
    .option(
      '--set <key=value>',
      'override for every run, e.g. --set backend.name=webgpu (repeatable)',
      collect,
      [],
    )
    .option('--nice <n>', 'run the processes at this niceness (e.g. 10 in the background)', positiveInt)
    .option('--out <dir>', "folder of the run directories (default: the study file's out:, else runs/<name>)")
    .action(async (file: string, o) => {
      const { runStudy } = await import('../study/run.js');
      const s = await load(file, o);
      if (o.index !== undefined && o.only.length > 0)
        throw new UserError('study run: give --index or --only, not both');
      const only = o.index !== undefined ? [String(o.index)] : o.only;
      exit.code = await runStudy(s, {
        jobs: o.jobs,
        only,
        sets: o.set,
        nice: o.nice,
        signals: true,
        say: out,
      });
    });

  study
    .command('status')
    .description('one line per run: state, epoch, val top-1 error')
    .argument('<study>')
    .option('--out <dir>', 'folder of the run directories')
    .option('--json', 'print JSON')
    .action(async (file: string, o) => {
      const { formatStudyStatus, studyStatus } = await import('../study/status.js');
      const s = await load(file, o);
      const rows = studyStatus(s);
      out(o.json ? JSON.stringify(rows, null, 2) : formatStudyStatus(s, rows));
    });

  study
    .command('report')
    .description("render the study's results folder (runs' files, Figures 3 and 4, summary, table.md)")
    .argument('<study>')
    .option('--out <dir>', 'folder of the run directories')
    .option(
      '--results <dir>',
      "results folder (default: the study file's results:, else results/<name> beside studies/)",
    )
    .action(async (file: string, o) => {
      const { studyReport } = await import('../study/results.js');
      const s = await load(file, o);
      const r = await studyReport(s, { out: o.results });
      out(r.table.trimEnd());
      out(`study ${s.name}: ${r.runs} run(s) rendered in ${path.relative(process.cwd(), r.out) || '.'}`);
    });

  study
    .command('commands')
    .description('print the `wtrain run` command of every run (for a Slurm array or by hand)')
    .argument('<study>')
    .option('--out <dir>', 'folder of the run directories')
    .option('--set <key=value>', 'override for every run (repeatable)', collect, [])
    .action(async (file: string, o) => {
      const { runArgs } = await import('../study/definition.js');
      const s = await load(file, o);
      for (const r of s.runs) {
        const args = ['wtrain', ...runArgs(s, r), ...o.set.flatMap((x: string) => ['--set', x])];
        out(args.map(shellWord).join(' '));
      }
    });
}
