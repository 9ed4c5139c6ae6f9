/**
 * The checkpoint policy: when a checkpoint is due (every `run.checkpoint_every` steps or
 * epochs, at a new best val top-1, at the end, on a stop signal) and how one is written —
 * never of diverged weights or of weights a failed kernel left wrong, with the runner's
 * state and the log files' sizes so a resume continues exactly.
 */
import type pino from 'pino';
import type { Config } from '../../config/schema.js';
import type { Trainer } from '../../train/types.js';
import { type CheckpointStore, stateToRaw } from '../checkpoints.js';
import type { MetricsLog } from '../metrics-log.js';
import type { StopSignal } from '../signals.js';
import type { TensorBoardWriter } from '../tensorboard/writer.js';
import type { IterationPlan } from './plan.js';
import type { MetricRecorder } from './recorder.js';
import type { RunnerState } from './state.js';

/** A NaN/Inf loss was found at `step`: the loop stops without writing another checkpoint. */
export class Diverged extends Error {
  constructor(readonly step: number) {
    super(`non-finite loss at step ${step}`);
  }
}

export interface CheckpointParts {
  run: Config['run'];
  plan: IterationPlan;
  trainer: Trainer;
  store: CheckpointStore;
  log: MetricsLog;
  tb: TensorBoardWriter | null;
  recorder: MetricRecorder;
  logger: pino.Logger;
  state: RunnerState;
  /** Called after each checkpoint is written (the runner refreshes status.json). */
  onCheckpoint?: () => void;
}

export class CheckpointPolicy {
  /** The last checkpoint this session wrote, and at which iteration. */
  last: string | null = null;
  private lastIter = -1;

  constructor(private readonly p: CheckpointParts) {}

  /** Throws Diverged when some loss since the start was NaN/Inf (tracked on the device; reads one scalar). */
  async checkFinite(): Promise<void> {
    const bad = await this.p.trainer.firstNonFiniteStep();
    if (bad !== null) throw new Diverged(bad);
  }

  /** A `step`-unit checkpoint is due after this batch. */
  stepDue(): boolean {
    const { checkpoint_every: every, checkpoint_unit: unit } = this.p.run;
    return unit === 'step' && every > 0 && this.p.state.iter % Math.ceil(every) === 0;
  }

  /** An `epoch`-unit checkpoint is due at the end of `epoch` (0-based). */
  epochDue(epoch: number): boolean {
    const { checkpoint_every: every, checkpoint_unit: unit } = this.p.run;
    return unit === 'epoch' && every > 0 && (epoch + 1) % Math.ceil(every) === 0;
  }

  /** Whether the last checkpoint holds the current iteration. */
  get current(): boolean {
    return this.lastIter === this.p.state.iter && this.last !== null;
  }

  async save(isBest: boolean): Promise<string> {
    const { trainer, state, log, recorder } = this.p;
    await this.checkFinite(); // never write a checkpoint of diverged weights
    // No flush: the trainer's unread metric sums travel in its state (see loop.ts).
    const raw = await stateToRaw(trainer.getState());
    await trainer.verifyDevice(); // never write a checkpoint of weights a failed kernel left wrong
    this.p.tb?.flush();
    const runner: RunnerState = {
      ...state,
      files: log.sizes(),
      wallSeconds: recorder.wall(),
      skipped: recorder.skipped(),
    };
    this.last = this.p.store.save({ ...raw, runner }, state.iter, isBest && this.p.run.keep_best);
    this.lastIter = state.iter;
    this.p.logger.debug({ file: this.last, iter: state.iter, step: trainer.step }, 'checkpoint');
    this.p.onCheckpoint?.();
    return this.last;
  }

  /** On a stop signal: the checkpoint to resume from (written now unless it is current), else null. */
  async onStop(
    stop: StopSignal,
  ): Promise<{ kind: 'interrupted'; signal: string; checkpoint: string } | null> {
    if (!stop.requested) return null;
    const file = this.current && this.last ? this.last : await this.save(false);
    return { kind: 'interrupted', signal: stop.requested, checkpoint: file };
  }
}
