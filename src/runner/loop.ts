/**
 * The training loop: epochs of (mirror-only, then engaged) batches with the paper's
 * learning-rate schedule; metrics, angles, evaluation, checkpoints, signals and NaN stops.
 * Train metrics are read from the trainer only at log intervals and epoch ends; a
 * checkpoint carries the trainer's unread sums instead of reading them, so the logged
 * numbers do not depend on when checkpoints are written, and a run resumed from any
 * checkpoint (periodic, or written on a signal) logs exactly the uninterrupted run's numbers.
 */
import type pino from 'pino';
import type { Config } from '../config/schema.js';
import { DataError } from '../data/errors.js';
import type { BatchLoader } from '../data/types.js';
import type { Trainer } from '../train/types.js';
import type { CheckpointStore } from './checkpoints.js';
import { type BackendInfo, Eta } from './eta.js';
import { CheckpointPolicy, Diverged } from './loop/checkpoint-policy.js';
import { EpochSteps } from './loop/epoch.js';
import { IterationPlan } from './loop/plan.js';
import { MetricRecorder } from './loop/recorder.js';
import type { RunnerState } from './loop/state.js';
import type { MetricsLog } from './metrics-log.js';
import type { Progress } from './progress.js';
import type { StopSignal } from './signals.js';
import type { TensorBoardWriter } from './tensorboard/writer.js';

export { initialRunnerState, type RunnerState } from './loop/state.js';

export interface LoopContext {
  cfg: Config;
  trainer: Trainer;
  loader: BatchLoader;
  log: MetricsLog;
  tb: TensorBoardWriter | null;
  store: CheckpointStore;
  logger: pino.Logger;
  progress: Progress;
  stop: StopSignal;
  peakLr: number;
  state: RunnerState;
  /** Called after each checkpoint is written (the runner refreshes status.json). */
  onCheckpoint?: () => void;
  /** The backend that runs (named in the warning about a run that would take far too long). */
  backend?: BackendInfo;
}

export type LoopOutcome =
  | { kind: 'done'; checkpoint: string | null }
  | { kind: 'interrupted'; signal: string; checkpoint: string }
  | { kind: 'nan'; step: number; epoch: number; checkpoint: string | null };

/**
 * Train from `state` to the end of the plan: the iteration plan (loop/plan.ts), the
 * metric recorder (loop/recorder.ts), the checkpoint policy (loop/checkpoint-policy.ts)
 * and the steps of each epoch (loop/epoch.ts), composed.
 */
export async function trainLoop(ctx: LoopContext): Promise<LoopOutcome> {
  const { cfg, trainer, loader, state } = ctx;
  const bpe = loader.batchesPerEpoch('train');
  if (bpe <= 0) {
    throw new DataError(
      `the train split (${loader.info.trainSize} samples) yields no full batch of ${cfg.train.batch_size}: lower train.batch_size or add data`,
    );
  }
  const plan = new IterationPlan(bpe, cfg.train.epochs, trainer.warmupEpochs, cfg.train.max_steps);
  const eta = new Eta({
    batchesPerEpoch: bpe,
    endIter: plan.endIter,
    totalSteps: Math.max(0, plan.endIter - plan.mirrorIters),
    evalEvery: cfg.train.eval_every,
    backend: ctx.backend,
    logger: ctx.logger,
  });
  const recorder = new MetricRecorder({ ...ctx, eta, plan });
  const checkpoints = new CheckpointPolicy({ ...ctx, run: cfg.run, plan, recorder });
  const epochs = new EpochSteps({ ...ctx, eta, plan, recorder, checkpoints });
  const startIter = state.iter;
  const finished = () => plan.finished(state.iter, trainer.step);

  try {
    // Angles at initialisation (Figure 4 starts at epoch 0); angles() changes no state.
    if (state.iter === 0 && cfg.train.angles_every > 0 && !finished()) await recorder.angles();
    for (;;) {
      // Also after a resume from a checkpoint written at an epoch's last batch, before its end.
      if (state.iter > 0 && state.endedAt !== state.iter && plan.atEpochEnd(state.iter, trainer.step)) {
        await epochs.end();
        const out = await checkpoints.onStop(ctx.stop);
        if (out) return out;
      }
      if (finished()) break;
      const out = await epochs.run();
      if (out) return out;
    }
    if (state.iter !== startIter && !checkpoints.current) await checkpoints.save(false);
  } catch (err) {
    if (!(err instanceof Diverged)) throw err;
    // Where the bad step was taken (found up to a log interval later): mirror-only batches, then steps.
    const at = { step: err.step, epoch: (plan.mirrorIters + err.step) / bpe };
    ctx.logger.error({ ...at, last_checkpoint: checkpoints.last }, `non-finite loss at step ${at.step}`);
    return { kind: 'nan', ...at, checkpoint: checkpoints.last ?? ctx.store.latest() ?? null };
  }
  return { kind: 'done', checkpoint: checkpoints.last ?? ctx.store.latest() ?? null };
}
