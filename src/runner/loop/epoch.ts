/**
 * The steps of one epoch: its mirror-only batches (WM's warm-up), then its engaged
 * training steps at the schedule's learning rate, with records, angles, step-unit
 * checkpoints and stop checks between batches; and the epoch's end: evaluation if due,
 * the epoch record, the best val top-1, and the checkpoint if due.
 */
import type pino from 'pino';
import type { Config } from '../../config/schema.js';
import { DataError } from '../../data/errors.js';
import type { BatchLoader } from '../../data/types.js';
import { learningRateAt } from '../../train/schedule.js';
import type { ClassMetrics, Trainer } from '../../train/types.js';
import type { Eta } from '../eta.js';
import { counting, type Progress } from '../progress.js';
import type { StopSignal } from '../signals.js';
import type { CheckpointPolicy } from './checkpoint-policy.js';
import type { IterationPlan } from './plan.js';
import type { MetricRecorder } from './recorder.js';
import type { RunnerState } from './state.js';

export interface EpochParts {
  cfg: Config;
  peakLr: number;
  plan: IterationPlan;
  trainer: Trainer;
  loader: BatchLoader;
  progress: Progress;
  eta: Eta;
  recorder: MetricRecorder;
  checkpoints: CheckpointPolicy;
  logger: pino.Logger;
  stop: StopSignal;
  state: RunnerState;
}

export type Stopped = { kind: 'interrupted'; signal: string; checkpoint: string };

export class EpochSteps {
  constructor(private readonly p: EpochParts) {}

  private finished(): boolean {
    return this.p.plan.finished(this.p.state.iter, this.p.trainer.step);
  }

  /** Between batches: timers and signals get their turn, a step-unit checkpoint if due, a stop if asked. */
  private async afterBatch(): Promise<Stopped | null> {
    const { eta, state, plan, checkpoints, trainer } = this.p;
    eta.batchDone(state.iter);
    await new Promise((resolve) => setImmediate(resolve));
    // At an epoch's end the periodic checkpoint waits for endEpoch, after the epoch record:
    // nothing is logged at a checkpoint's step after it, so a resume's TensorBoard marker
    // (SessionLog START at the next step) drops exactly what a crashed process logged after it.
    if (checkpoints.stepDue() && !plan.atEpochEnd(state.iter, trainer.step)) await checkpoints.save(false);
    return checkpoints.onStop(this.p.stop);
  }

  private anglesDue(count: number): boolean {
    const every = this.p.cfg.train.angles_every;
    return every > 0 && count % every === 0;
  }

  /** The batches of the current epoch from `state.iter` on: mirror-only first, then engaged. */
  async run(): Promise<Stopped | null> {
    const { plan, state, progress, recorder, trainer, cfg } = this.p;
    const epoch = plan.epochOf(state.iter);
    const epochEnd = plan.epochEnd(epoch);
    const bpe = plan.batchesPerEpoch;
    progress.startEpoch({
      epoch,
      epochs: cfg.train.epochs,
      batches: bpe,
      startBatch: state.iter - epoch * bpe,
    });
    recorder.epoch.reset();
    while (state.iter < Math.min(plan.mirrorIters, epochEnd)) {
      trainer.mirrorStep();
      state.iter++;
      state.lr = 0;
      progress.tick(state.iter - epoch * bpe, 'mirror');
      if (state.iter % cfg.train.log_every === 0) recorder.step('mirror');
      if (this.anglesDue(state.iter)) await recorder.angles();
      const out = await this.afterBatch();
      if (out) return out;
    }
    if (state.iter >= epochEnd || trainer.step >= plan.maxSteps) return null;
    return this.trainSteps(epoch, epochEnd);
  }

  private async trainSteps(epoch: number, epochEnd: number): Promise<Stopped | null> {
    const { plan, state, progress, recorder, trainer, cfg, loader, logger, checkpoints } = this.p;
    const bpe = plan.batchesPerEpoch;
    const it = loader.epochBatches('train', epoch, state.iter - epoch * bpe)[Symbol.asyncIterator]();
    try {
      while (state.iter < epochEnd && trainer.step < plan.maxSteps) {
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
        state.lr = learningRateAt(state.iter / bpe, this.p.peakLr, cfg.schedule, trainer.warmupEpochs);
        trainer.trainStep(next.value, state.lr);
        await trainer.settle();
        state.iter++;
        recorder.batch(waited, next.value.n);
        progress.tick(state.iter - epoch * bpe, 'train');
        if (trainer.step % cfg.train.log_every === 0) {
          await checkpoints.checkFinite(); // read back only at log intervals (and before checkpoints)
          await recorder.flush();
          recorder.step('train');
        }
        if (this.anglesDue(trainer.step)) await recorder.angles();
        const out = await this.afterBatch();
        if (out) return out;
      }
    } finally {
      await it.return?.();
    }
    return null;
  }

  /** End of an epoch (or of the run): evaluate if due, record, keep the best, checkpoint if due. */
  async end(): Promise<void> {
    const { plan, state, progress, recorder, trainer, cfg, loader, logger, checkpoints, eta } = this.p;
    const t = cfg.train;
    const epoch = Math.ceil(state.iter / plan.batchesPerEpoch) - 1;
    await recorder.flush();
    const timing = recorder.epoch.stats(); // the training pace, before the evaluation
    const evalEvery = Math.max(1, Math.round(t.eval_every));
    const evalDue = this.finished() || (t.eval_every > 0 && (epoch + 1) % evalEvery === 0);
    let val: ClassMetrics | null = null;
    const ended = performance.now();
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
    recorder.endEpoch(val, timing);
    state.endedAt = state.iter;
    const isBest = val !== null && (state.best === null || val.top1Error < state.best.top1);
    if (val && isBest)
      state.best = { top1: val.top1Error, epoch: state.iter / plan.batchesPerEpoch, step: trainer.step };
    if (
      this.finished() ||
      checkpoints.epochDue(epoch) ||
      checkpoints.stepDue() ||
      (isBest && cfg.run.keep_best)
    )
      await checkpoints.save(isBest);
    // The next step record's interval spans this epoch's end: its pace leaves out the evaluation and checkpoint.
    recorder.interval.exclude(performance.now() - ended);
  }
}
