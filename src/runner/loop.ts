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
import type { Batch, BatchLoader } from '../data/types.js';
import { learningRateAt } from '../train/schedule.js';
import type { ClassMetrics, Trainer } from '../train/types.js';
import { type Acc, addMetrics, emptyAcc, meanOf, Timer } from './accum.js';
import { type CheckpointStore, stateToRaw } from './checkpoints.js';
import { type BackendInfo, Eta } from './eta.js';
import type { AngleRecord, LogFile, MetricsLog, MetricsRecord } from './metrics-log.js';
import { counting, type Progress } from './progress.js';
import type { StopSignal } from './signals.js';
import type { TensorBoardWriter } from './tensorboard/writer.js';

/** The runner's part of a checkpoint: where it is and what it has accumulated. */
export interface RunnerState {
  /** Batches done so far, mirror-only and engaged: epoch = floor(iter / batchesPerEpoch). */
  iter: number;
  /** `iter` at the last end-of-epoch evaluation (so a resume knows whether it is still due). */
  endedAt: number;
  /** Training wall time of earlier sessions, seconds. */
  wallSeconds: number;
  /** Skipped samples counted by earlier sessions. */
  skipped: number;
  interval: Acc;
  epochAcc: Acc;
  best: { top1: number; epoch: number; step: number } | null;
  /** Sizes of the log files when the checkpoint was written (truncated back to on resume). */
  files: Record<LogFile, number>;
  lr: number;
}

export const initialRunnerState = (): RunnerState => ({
  iter: 0,
  endedAt: 0,
  wallSeconds: 0,
  skipped: 0,
  interval: emptyAcc(),
  epochAcc: emptyAcc(),
  best: null,
  files: { metrics: 0, csv: 0, angles: 0 },
  lr: 0,
});

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

export async function trainLoop(ctx: LoopContext): Promise<LoopOutcome> {
  const { cfg, trainer, loader, log, logger, progress, stop, state } = ctx;
  const t = cfg.train;
  const bpe = loader.batchesPerEpoch('train');
  if (bpe <= 0) {
    throw new DataError(
      `the train split (${loader.info.trainSize} samples) yields no full batch of ${t.batch_size}: lower train.batch_size or add data`,
    );
  }
  const totalIters = Math.ceil(t.epochs * bpe);
  const mirrorIters = Math.round(trainer.warmupEpochs * bpe);
  const maxSteps = t.max_steps ?? Number.POSITIVE_INFINITY;
  const endIter = Math.min(totalIters, mirrorIters + maxSteps);
  const eta = new Eta({
    batchesPerEpoch: bpe,
    endIter,
    totalSteps: Math.max(0, endIter - mirrorIters),
    evalEvery: t.eval_every,
    backend: ctx.backend,
    logger,
  });
  const sessionStart = performance.now();
  // Samples dropped while listing the data count once, in the first session; a resumed
  // session lists them again, so only what it skips from here on is added.
  const startSkipped = state.iter === 0 ? 0 : loader.stats().skipped;
  const timer = new Timer();
  const epochTimer = new Timer();
  let lastCheckpoint: string | null = null;
  let lastCheckpointIter = -1;
  let probe: Batch | null = null;

  const wall = () => state.wallSeconds + (performance.now() - sessionStart) / 1000;
  const skipped = () => state.skipped + loader.stats().skipped - startSkipped;
  const phaseOf = (iter: number) => (iter < mirrorIters ? 'mirror' : 'train') as 'mirror' | 'train';
  const mirrorSteps = () => Math.min(state.iter, mirrorIters);

  const flush = async () => {
    const m = await trainer.takeTrainMetrics();
    addMetrics(state.interval, m);
    addMetrics(state.epochAcc, m);
  };

  const record = (kind: 'step' | 'epoch', train: Acc, val: ClassMetrics | null, tm: Timer): MetricsRecord => {
    const tr = meanOf(train);
    const rec: MetricsRecord = {
      kind,
      phase: phaseOf(Math.max(0, state.iter - 1)),
      step: trainer.step,
      epoch: state.iter / bpe,
      mirror_steps: mirrorSteps(),
      train_loss: tr.loss,
      train_top1: tr.top1,
      train_top5: tr.top5,
      val_loss: val?.loss ?? null,
      val_top1: val?.top1Error ?? null,
      val_top5: val?.top5Error ?? null,
      lr: state.lr,
      ...tm.stats(),
      skipped: skipped(),
      wall_s: wall(),
    };
    log.write(rec);
    logger.info(
      { ...rec, ...eta.fields(state.iter) },
      kind === 'epoch' ? 'epoch' : rec.phase === 'mirror' ? 'mirror' : 'step',
    );
    progress.record(rec);
    const prefix = kind === 'epoch' ? 'epoch/' : '';
    ctx.tb?.scalars(state.iter, {
      [`${prefix}train/loss`]: rec.train_loss,
      [`${prefix}train/top1_error`]: rec.train_top1,
      [`${prefix}train/top5_error`]: rec.train_top5,
      'val/loss': rec.val_loss,
      'val/top1_error': rec.val_top1,
      'val/top5_error': rec.val_top5,
      ...(kind === 'step' ? { lr: rec.lr, img_per_s: rec.img_per_s, data_wait: rec.data_wait } : {}),
    });
    return rec;
  };

  const logAngles = async () => {
    if (!probe) {
      for await (const b of loader.epochBatches('val', 0)) {
        probe = b;
        break;
      }
    }
    if (!probe) return;
    const angles = await trainer.angles(probe);
    const base = { step: trainer.step, epoch: state.iter / bpe, phase: phaseOf(Math.max(0, state.iter - 1)) };
    const recs: AngleRecord[] = angles.map((a) => ({
      ...base,
      layer: a.layer,
      index: a.index,
      matrix_angle: a.matrixAngle,
      delta_angle: a.deltaAngle,
    }));
    log.writeAngles(recs);
    const scalars: Record<string, number> = {};
    for (const a of angles) {
      scalars[`angles/matrix/${String(a.index).padStart(3, '0')}_${a.layer}`] = a.matrixAngle;
      scalars[`angles/delta/${String(a.index).padStart(3, '0')}_${a.layer}`] = a.deltaAngle;
    }
    ctx.tb?.scalars(state.iter, scalars);
  };

  /** Throws Diverged when some loss since the start was NaN/Inf (tracked on the device). */
  const checkFinite = async (): Promise<void> => {
    const bad = await trainer.firstNonFiniteStep();
    if (bad !== null) throw new Diverged(bad);
  };

  const checkpoint = async (isBest: boolean) => {
    await checkFinite(); // never write a checkpoint of diverged weights
    // No flush: the trainer's unread metric sums travel in its state (see the top of this file).
    const raw = await stateToRaw(trainer.getState());
    await trainer.verifyDevice(); // never write a checkpoint of weights a failed kernel left wrong
    ctx.tb?.flush();
    const runner: RunnerState = { ...state, files: log.sizes(), wallSeconds: wall(), skipped: skipped() };
    lastCheckpoint = ctx.store.save({ ...raw, runner }, state.iter, isBest && cfg.run.keep_best);
    lastCheckpointIter = state.iter;
    logger.debug({ file: lastCheckpoint, iter: state.iter, step: trainer.step }, 'checkpoint');
    ctx.onCheckpoint?.();
    return lastCheckpoint;
  };

  const interruptIfRequested = async (): Promise<LoopOutcome | null> => {
    if (!stop.requested) return null;
    const file =
      state.iter === lastCheckpointIter && lastCheckpoint ? lastCheckpoint : await checkpoint(false);
    return { kind: 'interrupted', signal: stop.requested, checkpoint: file };
  };

  const stepCheckpointDue = () => {
    const every = cfg.run.checkpoint_every;
    return cfg.run.checkpoint_unit === 'step' && every > 0 && state.iter % Math.ceil(every) === 0;
  };

  const afterBatch = async (): Promise<LoopOutcome | null> => {
    eta.batchDone(state.iter);
    // Let signal handlers, timers and the progress bar run between batches.
    await new Promise((resolve) => setImmediate(resolve));
    // At an epoch's end the periodic checkpoint waits for endEpoch, after the epoch record:
    // nothing is logged at a checkpoint's step after it, so a resume's TensorBoard marker
    // (SessionLog START at the next step) drops exactly what a crashed process logged after it.
    if (stepCheckpointDue() && !(state.iter % bpe === 0 || finished())) await checkpoint(false);
    return interruptIfRequested();
  };

  const startIter = state.iter;
  const finished = () => state.iter >= totalIters || trainer.step >= maxSteps;

  /** The batches of the current epoch from `state.iter` on: mirror-only first, then engaged. */
  const runBatches = async (): Promise<LoopOutcome | null> => {
    const epoch = Math.floor(state.iter / bpe);
    const epochEnd = Math.min((epoch + 1) * bpe, totalIters);
    progress.startEpoch({ epoch, epochs: t.epochs, batches: bpe, startBatch: state.iter - epoch * bpe });
    epochTimer.reset();
    while (state.iter < Math.min(mirrorIters, epochEnd)) {
      trainer.mirrorStep();
      state.iter++;
      state.lr = 0;
      progress.tick(state.iter - epoch * bpe, 'mirror');
      if (state.iter % t.log_every === 0) {
        record('step', emptyAcc(), null, timer);
        timer.reset();
      }
      if (t.angles_every > 0 && state.iter % t.angles_every === 0) await logAngles();
      const out = await afterBatch();
      if (out) return out;
    }
    if (state.iter >= epochEnd || trainer.step >= maxSteps) return null;
    const it = loader.epochBatches('train', epoch, state.iter - epoch * bpe)[Symbol.asyncIterator]();
    try {
      while (state.iter < epochEnd && trainer.step < maxSteps) {
        const w0 = performance.now();
        const next = await it.next();
        if (next.done) {
          if (state.iter === epoch * bpe) throw new DataError('the train split yields no readable batch');
          // Fewer batches than counted: data.train.num_samples above the real count, or a
          // shard damaged since it was counted. The epoch ends here; the run goes on.
          const missing = epochEnd - state.iter;
          logger.warn(
            { epoch, missing_batches: missing },
            `data: the train split ended ${missing} batches before the end of epoch ${epoch} ` +
              '(data.train.num_samples above the real count, a shard damaged since counting, or unreadable last batches); ' +
              'the epoch ends here',
          );
          state.iter = epochEnd;
          break;
        }
        const at = next.value.index === undefined ? state.iter : epoch * bpe + next.value.index;
        if (at > state.iter) {
          // A sharded split skips a batch with no readable sample (the loader cannot refill it).
          const [from, to] = [state.iter - epoch * bpe, at - epoch * bpe - 1];
          logger.warn(
            { epoch, batches: [from, to] },
            `data: train batch${from === to ? ` ${from}` : `es ${from}-${to}`} of epoch ${epoch} had no readable sample: skipped`,
          );
          state.iter = at;
        }
        const waited = performance.now() - w0;
        timer.wait += waited;
        epochTimer.wait += waited;
        state.lr = learningRateAt(state.iter / bpe, ctx.peakLr, cfg.schedule, trainer.warmupEpochs);
        trainer.trainStep(next.value, state.lr);
        await trainer.settle();
        state.iter++;
        timer.images += next.value.n;
        epochTimer.images += next.value.n;
        progress.tick(state.iter - epoch * bpe, 'train');
        if (trainer.step % t.log_every === 0) {
          await checkFinite(); // read back only at log intervals (and before checkpoints)
          await flush();
          record('step', state.interval, null, timer);
          state.interval = emptyAcc();
          timer.reset();
        }
        if (t.angles_every > 0 && trainer.step % t.angles_every === 0) await logAngles();
        const out = await afterBatch();
        if (out) return out;
      }
    } finally {
      await it.return?.();
    }
    return null;
  };

  /** End of an epoch (or of the run): evaluate if due, record, keep the best, checkpoint if due. */
  const endEpoch = async (): Promise<void> => {
    const epoch = Math.ceil(state.iter / bpe) - 1;
    await flush();
    const evalEvery = Math.max(1, Math.round(t.eval_every));
    const evalDue = finished() || (t.eval_every > 0 && (epoch + 1) % evalEvery === 0);
    let val: ClassMetrics | null = null;
    if (evalDue) {
      const t0 = performance.now();
      const batches = Math.min(t.eval_batches ?? Number.POSITIVE_INFINITY, loader.batchesPerEpoch('val'));
      progress.startEval(batches);
      const counted = counting(loader.epochBatches('val', 0), (n) => progress.tick(n, 'eval'));
      val = await trainer.evaluate(counted, t.eval_batches ?? undefined);
      eta.evalTook((performance.now() - t0) / 1000);
    }
    if (val && val.samples === 0) {
      // Nothing readable (every val sample corrupt or skipped): no numbers rather than made-up ones.
      logger.warn({ epoch }, 'data: the val split yielded no readable sample; val metrics are null');
      val = null;
    }
    record('epoch', state.epochAcc, val, epochTimer);
    state.epochAcc = emptyAcc();
    state.endedAt = state.iter;
    const isBest = val !== null && (state.best === null || val.top1Error < state.best.top1);
    if (val && isBest) state.best = { top1: val.top1Error, epoch: state.iter / bpe, step: trainer.step };
    const every = cfg.run.checkpoint_every;
    const epochDue = cfg.run.checkpoint_unit === 'epoch' && every > 0 && (epoch + 1) % Math.ceil(every) === 0;
    if (finished() || epochDue || stepCheckpointDue() || (isBest && cfg.run.keep_best))
      await checkpoint(isBest);
  };

  try {
    // Angles at initialisation (Figure 4 starts at epoch 0); angles() changes no state.
    if (state.iter === 0 && t.angles_every > 0 && !finished()) await logAngles();
    for (;;) {
      // Also after a resume from a checkpoint written at an epoch's last batch, before its end.
      if (state.iter > 0 && state.endedAt !== state.iter && (state.iter % bpe === 0 || finished())) {
        await endEpoch();
        const out = await interruptIfRequested();
        if (out) return out;
      }
      if (finished()) break;
      const out = await runBatches();
      if (out) return out;
    }
    if (state.iter !== startIter && lastCheckpointIter !== state.iter) await checkpoint(false);
  } catch (err) {
    if (!(err instanceof Diverged)) throw err;
    // Where the bad step was taken (found up to a log interval later): mirror-only batches, then steps.
    const at = { step: err.step, epoch: (mirrorIters + err.step) / bpe };
    logger.error({ ...at, last_checkpoint: lastCheckpoint }, `non-finite loss at step ${at.step}`);
    return { kind: 'nan', ...at, checkpoint: lastCheckpoint ?? ctx.store.latest() ?? null };
  }
  return { kind: 'done', checkpoint: lastCheckpoint ?? ctx.store.latest() ?? null };
}

/** A NaN/Inf loss was found at `step`: the loop stops without writing another checkpoint. */
class Diverged extends Error {
  constructor(readonly step: number) {
    super(`non-finite loss at step ${step}`);
  }
}
