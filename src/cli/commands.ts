/**
 * The `wtrain` subcommands: thin wrappers over src/runner and src/report. Training and
 * rendering modules load on demand, so `list` and `config` start fast.
 */
import path from 'node:path';
import { type Command, Option } from 'commander';
import { configToYaml, displayPath, loadConfig } from '../config/load.js';
import { formatListing, listRuns } from '../report/list.js';
import { RULES } from '../rules/registry.js';
import type { RunResult } from '../runner/execute.js';
import { runPaths, timestamp } from '../runner/rundir.js';
import { storageError } from '../runner/storage.js';
import { EXIT, UserError } from '../util/errors.js';
import { addTrainingOptions, collect, executeOptions, positiveInt } from './options.js';

const out = (line: string) => process.stdout.write(`${line}\n`);

/**
 * A finished run's report (`<run>/report/`), unless `run.report: false` or `--no-report`.
 * A report that cannot be rendered is a warning: the run itself succeeded.
 */
async function reportAfterRun(r: RunResult): Promise<void> {
  if (r.outcome !== 'done' || !r.report) return;
  const { renderReport } = await import('../report/index.js');
  const dir = runPaths(r.runDir).report;
  try {
    await renderReport([r.runDir], dir);
    out(`report: ${displayPath(path.join(dir, 'report.html'))}`);
  } catch (err) {
    const why = err instanceof UserError ? err.message : (storageError(err)?.message ?? String(err));
    process.stderr.write(`warning: could not render the report: ${why}\n`);
  }
}

/** Each action resolves to an exit code, stored for main() to return. */
export type Exit = { code: number };

export function registerCommands(program: Command, exit: Exit): void {
  addTrainingOptions(
    program
      .command('run')
      .description('train from a config file into a run directory')
      .argument('<config>', 'YAML config (see configs/)')
      .option('--smoke', "a few steps on tiny data (the config's smoke: variant)")
      .option('--name <name>', 'run name (default: <config>-<yyyymmdd-hhmmss>)')
      .option('--run-dir <dir>', 'run directory (default: runs/<name>)')
      .addOption(
        new Option(
          '--resume <mode>',
          'auto: continue the run directory if it has a checkpoint, skip it if done',
        )
          .choices(['auto', 'never'])
          .default('never'),
      ),
  ).action(async (config: string, o, cmd: Command) => {
    const { runFromConfig } = await import('../runner/session.js');
    const r = await runFromConfig(
      {
        configFile: config,
        sets: o.set,
        smoke: o.smoke,
        name: o.name,
        runDir: o.runDir,
        resume: o.resume,
        force: o.force,
      },
      executeOptions(cmd),
    );
    exit.code = r.exitCode;
    await reportAfterRun(r);
  });

  addTrainingOptions(
    program.command('resume').description('continue a run from its latest checkpoint').argument('<run-dir>'),
  ).action(async (dir: string, o, cmd: Command) => {
    const { resumeRun } = await import('../runner/session.js');
    const r = await resumeRun(dir, { sets: o.set, force: o.force }, executeOptions(cmd));
    exit.code = r.exitCode;
    await reportAfterRun(r);
  });

  program
    .command('eval')
    .description("top-1/top-5 error of a run's checkpoint on the val split")
    .argument('<run-dir>')
    .option('--checkpoint <which>', 'best, last, or a checkpoint file', 'best')
    .option('--batches <n>', 'evaluate only the first n val batches', positiveInt)
    .option('--json', 'print JSON')
    .action(async (dir: string, o, cmd: Command) => {
      const { evaluateRun } = await import('../runner/evaluate.js');
      const g = cmd.optsWithGlobals();
      const r = await evaluateRun(dir, {
        checkpoint: o.checkpoint,
        batches: o.batches,
        logLevel: g.quiet ? 'error' : 'warn',
      });
      if (o.json) out(JSON.stringify(r));
      else {
        const m = r.metrics;
        out(
          `${path.relative(process.cwd(), r.checkpoint) || r.checkpoint}: val top-1 error ${(100 * m.top1Error).toFixed(2)}%, ` +
            `top-5 error ${(100 * m.top5Error).toFixed(2)}%, loss ${m.loss.toFixed(4)} (${m.samples} samples)`,
        );
      }
      exit.code = EXIT.OK;
    });

  program
    .command('list')
    .description('one line per run: name, rule, model, data, epoch, best top-1, status')
    .argument('[dir]', 'folder of run directories', 'runs')
    .option('--json', 'print JSON lines')
    .action((dir: string, o) => {
      const runs = listRuns(dir, (line) => process.stderr.write(`${line}\n`));
      if (o.json) for (const r of runs) out(JSON.stringify(r));
      else out(runs.length > 0 ? formatListing(runs) : `no runs in ${dir}`);
      exit.code = EXIT.OK;
    });

  program
    .command('report')
    .description("the paper's Figures 3 and 4 and a summary table for some runs (SVG, PNG, report.html)")
    .argument('<run-dirs...>')
    .option(
      '--out <dir>',
      'output folder (default: <run>/report for one run, runs/reports/<yyyymmdd-hhmmss> for several)',
    )
    .action(async (dirs: string[], o) => {
      const { renderReport } = await import('../report/index.js');
      const outDir =
        o.out ??
        (dirs.length === 1 ? path.join(dirs[0], 'report') : path.join('runs', 'reports', timestamp()));
      const r = await renderReport(dirs, outDir).catch((err) => {
        throw storageError(err, { hint: 'choose another folder with --out DIR' }) ?? err;
      });
      out(`report: ${path.relative(process.cwd(), r.html) || r.html}`);
      exit.code = EXIT.OK;
    });

  program
    .command('rules')
    .description('the learning rules (rule.name): label, name and how δ travels back')
    .option('--names', "names only, on one line (scripts/sweep.sh's default rules)")
    .action((o) => {
      if (o.names) out(RULES.map((r) => r.name).join(' '));
      else for (const r of RULES) out(`${r.name.padEnd(4)} ${r.label.padEnd(4)} ${r.title}: ${r.feedback}`);
      exit.code = EXIT.OK;
    });

  program
    .command('config')
    .description('validate a config and print it resolved (extends, --smoke and --set applied)')
    .argument('<config>')
    .option('--set <key=value>', 'override a config key (repeatable)', collect, [])
    .option('--smoke', 'apply the smoke variant')
    .action((file: string, o) => {
      process.stdout.write(configToYaml(loadConfig(file, { sets: o.set, smoke: o.smoke }).config));
      exit.code = EXIT.OK;
    });
}
