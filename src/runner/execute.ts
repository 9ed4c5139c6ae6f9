/** Train one run directory: set up logging, engine, data and state; run the loop; record the outcome. */
import { renameSync } from 'node:fs';
import path from 'node:path';
import type pino from 'pino';
import { displayPath } from '../config/load.js';
import type { Config } from '../config/schema.js';
import type { BatchLoader } from '../data/types.js';
import type { Trainer } from '../train/types.js';
import { EXIT, UserError } from '../util/errors.js';
import { type CheckpointContent, CheckpointFormatError } from './checkpoint-format.js';
import { CheckpointStore, restoreTrainer } from './checkpoints.js';
import { createRunLogger, type LogLevel } from './logger.js';
import { initialRunnerState, type LoopOutcome, type RunnerState, trainLoop } from './loop.js';
import { formatLearningRate, learningRateInfo } from './lr.js';
import { MetricsLog } from './metrics-log.js';
import { createProgress, progressMode } from './progress.js';
import { newMeta, type RunState, readMeta, readStatus, runPaths, writeMeta, writeStatus } from './rundir.js';
import { StopSignal } from './signals.js';
import { loadTrainingStack, openTrainingStack, type TrainingStack } from './stack.js';
import { storageError } from './storage.js';
import { TensorBoardWriter } from './tensorboard/writer.js';

export interface ExecuteOptions {
  /** Inject an engine (tests); default: the real one. */
  stack?: TrainingStack;
  logLevel?: LogLevel;
  quiet?: boolean;
  progress?: Config['run']['progress'];
  /** Override `run.report`. */
  report?: boolean;
  /** Install SIGINT/SIGTERM handlers (the CLI does; in-process tests don't). */
  signals?: StopSignal | boolean;
  /** Where one-line messages for people go (stdout in the CLI). */
  say?: (line: string) => void;
  isTTY?: boolean;
}

export interface RunResult {
  exitCode: number;
  runDir: string;
  outcome: LoopOutcome['kind'] | 'skipped';
  /** A finished run whose report is wanted (`run.report`, `--no-report`): the CLI renders it. */
  report?: boolean;
}

interface ExecuteContext extends ExecuteOptions {
  fresh: boolean;
  configFile: string;
  smoke: boolean;
  forced: boolean;
}

type StatusFn = (s: RunState, extra?: { message?: string; exit_code?: number }) => void;

interface Session {
  loader: BatchLoader;
  trainer: Trainer;
  store: CheckpointStore;
  state: RunnerState;
  backend: { name: string; reason: string };
}

/** Data, backend, model, meta.json, and the checkpoint to continue from (if any). */
async function openSession(
  dir: string,
  config: Config,
  ctx: ExecuteContext,
  logger: pino.Logger,
): Promise<Session> {
  const store = new CheckpointStore(runPaths(dir).checkpoints, config.run.keep_checkpoints);
  const resumed = ctx.fresh ? undefined : loadLatestIntact<RunnerState>(store, logger, ctx.say);
  const checkpointFile = resumed?.file;
  const engine = ctx.stack ?? (await loadTrainingStack());
  const old = readMeta(dir);
  const baseDir = old?.base_dir ?? path.dirname(ctx.configFile);
  const { loader, trainer, backend } = await openTrainingStack(engine, config, baseDir, logger);
  const session = { loader, trainer, store, backend, state: initialRunnerState() };
  try {
    const lr = learningRateInfo(config);
    const meta =
      old ??
      newMeta({
        seed: config.train.seed,
        backend,
        config_file: ctx.configFile,
        base_dir: baseDir,
        smoke: ctx.smoke,
        learning_rate: lr,
      });
    if (old) {
      meta.resumes.push({
        time: new Date().toISOString(),
        checkpoint: checkpointFile ?? null,
        backend: backend.name,
        forced: ctx.forced,
        learning_rate: lr,
      });
    }
    writeMeta(dir, meta);
    logger.info(
      { run_dir: dir, backend, checkpoint: checkpointFile ?? null, learning_rate: lr },
      `${checkpointFile ? 'resuming' : 'starting'}: ${formatLearningRate(lr)}`,
    );
    if (resumed) {
      restoreTrainer(trainer, resumed.content);
      session.state = resumed.content.runner;
    }
    return session;
  } catch (err) {
    await closeSession(session);
    throw err;
  }
}

async function closeSession(s: Pick<Session, 'loader' | 'trainer'>): Promise<void> {
  await s.loader.close();
  s.trainer.dispose();
}

/**
 * The newest checkpoint that reads back intact. Corrupt newer ones (truncated, flipped
 * bits: their CRCs say so) are renamed `*.corrupt`, kept for inspection, once an older
 * one has loaded; when none is intact nothing is renamed and the error names them all,
 * so a second attempt cannot fall back to a fresh start that would truncate the logs.
 */
function loadLatestIntact<R>(
  store: CheckpointStore,
  logger: pino.Logger,
  say?: (line: string) => void,
): { file: string; content: CheckpointContent<R> } | undefined {
  const bad: { file: string; why: string }[] = [];
  for (const { file } of store.list().reverse()) {
    let content: CheckpointContent<R>;
    try {
      content = store.load<R>(file);
    } catch (err) {
      if (!(err instanceof CheckpointFormatError)) throw err;
      bad.push({ file, why: err.message });
      continue;
    }
    for (const b of bad) {
      const kept = `${b.file}.corrupt`;
      renameSync(b.file, kept);
      logger.warn({ file: kept, err: b.why }, 'corrupt checkpoint skipped');
      say?.(`warning: ${b.why}; moved to ${displayPath(kept)}, resuming from ${displayPath(file)}`);
    }
    return { file, content };
  }
  if (bad.length === 0) return undefined;
  throw new UserError(
    `no intact checkpoint to resume from: ${bad.map((b) => b.why).join('; ')}. ` +
      'Restore one from a backup, or start a new run with --name/--run-dir',
  );
}

export async function execute(dir: string, config: Config, ctx: ExecuteContext): Promise<RunResult> {
  const paths = runPaths(dir);
  const isTTY = ctx.isTTY ?? Boolean(process.stderr.isTTY);
  const mode = progressMode(ctx.progress ?? config.run.progress, ctx.quiet ?? false, isTTY);
  const { logger, console, addFile, fileOnly } = createRunLogger({
    level: ctx.logLevel ?? 'info',
    quiet: ctx.quiet ?? false,
    human: mode === 'bars' || (isTTY && mode !== 'lines'),
  });
  addFile(paths.events);
  const stop = ctx.signals instanceof StopSignal ? ctx.signals : new StopSignal();
  if (ctx.signals === true) stop.install(logger);
  let session: Session | undefined;
  // Before the session is open (a failure while setting up), the progress recorded last stays.
  const before = readStatus(dir);
  const status: StatusFn = (s, extra = {}) =>
    writeStatus(dir, {
      status: s,
      epoch: session
        ? session.state.iter / Math.max(1, session.loader.batchesPerEpoch('train'))
        : (before?.epoch ?? 0),
      step: session?.trainer.step ?? before?.step ?? 0,
      best_val_top1: session ? (session.state.best?.top1 ?? null) : (before?.best_val_top1 ?? null),
      ...extra,
    });
  // A second Ctrl-C exits at once, without a checkpoint: status.json still says so.
  stop.onForcedExit = () => {
    const last = session?.store.latest();
    const from = last ? `the last checkpoint, ${displayPath(last)}` : 'the start';
    const message = `second SIGINT: exited at once without a checkpoint; a resume continues from ${from}`;
    status('interrupted', { message, exit_code: EXIT.SIGINT_FORCED });
  };
  let outcome: LoopOutcome;
  const progress = createProgress(mode, console);
  let log: MetricsLog | undefined;
  let tb: TensorBoardWriter | null = null;
  try {
    session = await openSession(dir, config, ctx, logger);
    const { loader, trainer, store, state } = session;
    log = new MetricsLog(dir, state.files);
    tb = config.run.tensorboard ? new TensorBoardWriter(dir, state.iter) : null;
    status('running');
    outcome = await trainLoop({
      cfg: config,
      trainer,
      loader,
      log,
      tb,
      store,
      logger,
      progress,
      stop,
      state,
      peakLr: learningRateInfo(config).peak,
      onCheckpoint: () => status('running'),
      backend: { name: session.backend.name, threads: config.backend.threads },
    });
  } catch (err) {
    // A user's mistake (bad data, a folder that cannot be written) is one line: the CLI
    // prints it, events.log keeps it; a bug keeps its stack trace. Recording the failure
    // must not hide it (a full disk may refuse status.json and events.log too).
    const user = err instanceof UserError ? err : storageError(err, { dir });
    const message = (user ?? (err as Error)).message;
    bestEffort(() => status('failed', { message, exit_code: user?.exitCode ?? EXIT.ERROR }));
    bestEffort(() =>
      user
        ? fileOnly.error({ error: message, exit_code: user.exitCode }, 'run failed')
        : logger.error({ err }, 'run failed'),
    );
    throw err;
  } finally {
    stop.onForcedExit = null;
    progress.stop();
    if (ctx.signals === true) stop.uninstall();
    log?.close();
    tb?.close();
    if (session) await closeSession(session);
  }
  return finish(dir, config, outcome, { ...ctx, status, logger });
}

async function finish(
  dir: string,
  config: Config,
  outcome: LoopOutcome,
  ctx: ExecuteContext & { status: StatusFn; logger: pino.Logger },
): Promise<RunResult> {
  const say = ctx.say ?? (() => {});
  if (outcome.kind === 'interrupted') {
    const message = `${outcome.signal}: stopped after writing ${displayPath(outcome.checkpoint)}`;
    ctx.status('interrupted', { message, exit_code: EXIT.INTERRUPTED });
    say(`${message}; continue with: wtrain resume ${displayPath(dir)}`);
    return { exitCode: EXIT.INTERRUPTED, runDir: dir, outcome: outcome.kind };
  }
  if (outcome.kind === 'nan') {
    const kept = outcome.checkpoint
      ? `the last good checkpoint is ${displayPath(outcome.checkpoint)}`
      : 'no checkpoint was written yet';
    const message = `non-finite loss at step ${outcome.step} (epoch ${outcome.epoch.toFixed(2)}): training diverged; ${kept}`;
    ctx.status('failed', { message, exit_code: EXIT.NAN });
    say(message);
    return { exitCode: EXIT.NAN, runDir: dir, outcome: outcome.kind };
  }
  ctx.status('done', { exit_code: EXIT.OK });
  say(`run finished: ${displayPath(dir)}`);
  return { exitCode: EXIT.OK, runDir: dir, outcome: outcome.kind, report: ctx.report ?? config.run.report };
}

/** Run `fn`, ignoring its failure (recording a failure must not replace it). */
function bestEffort(fn: () => void): void {
  try {
    fn();
  } catch {}
}
