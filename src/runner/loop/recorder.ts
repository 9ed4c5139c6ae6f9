/**
 * The metric recorder: train metrics read from the trainer at log intervals and epoch
 * ends, one record per interval and per epoch into metrics.jsonl/csv, the JSON log (with
 * the ETA), the progress display and TensorBoard; matrix and δ angles into angles.jsonl.
 * Timing (images/s, data wait), wall time and skipped samples are kept here.
 */
import type pino from 'pino';
import type { Batch, BatchLoader } from '../../data/types.js';
import type { ClassMetrics, Trainer } from '../../train/types.js';
import { type Acc, addMetrics, emptyAcc, meanOf, Timer } from '../accum.js';
import type { Eta } from '../eta.js';
import type { AngleRecord, MetricsLog, MetricsRecord } from '../metrics-log.js';
import type { Progress } from '../progress.js';
import type { TensorBoardWriter } from '../tensorboard/writer.js';
import type { IterationPlan } from './plan.js';
import type { RunnerState } from './state.js';

export interface RecorderParts {
  trainer: Trainer;
  loader: BatchLoader;
  log: MetricsLog;
  tb: TensorBoardWriter | null;
  logger: pino.Logger;
  progress: Progress;
  eta: Eta;
  plan: IterationPlan;
  state: RunnerState;
}

export class MetricRecorder {
  /** Since the last step record / since the epoch began. */
  readonly interval = new Timer();
  readonly epoch = new Timer();
  private readonly sessionStart = performance.now();
  /** Samples dropped while listing the data count once, in the first session; a resumed session lists them again. */
  private readonly startSkipped: number;
  /** The val batch the angles are measured on (the same one all run long). */
  private probe: Batch | null = null;

  constructor(private readonly p: RecorderParts) {
    this.startSkipped = p.state.iter === 0 ? 0 : p.loader.stats().skipped;
  }

  /** Training seconds of this and earlier sessions. */
  wall(): number {
    return this.p.state.wallSeconds + (performance.now() - this.sessionStart) / 1000;
  }

  /** Samples skipped by this and earlier sessions. */
  skipped(): number {
    return this.p.state.skipped + this.p.loader.stats().skipped - this.startSkipped;
  }

  /** A batch waited `ms` for its data and trained `images`. */
  batch(ms: number, images: number): void {
    for (const t of [this.interval, this.epoch]) {
      t.wait += ms;
      t.images += images;
    }
  }

  /** Read the trainer's metrics since the last read into the interval's and the epoch's sums. */
  async flush(): Promise<void> {
    const m = await this.p.trainer.takeTrainMetrics();
    addMetrics(this.p.state.interval, m);
    addMetrics(this.p.state.epochAcc, m);
  }

  /** A log interval's record (training steps: call flush() first; mirror-only batches have no metrics). */
  step(phase: 'mirror' | 'train'): void {
    const { state } = this.p;
    this.write('step', phase === 'mirror' ? emptyAcc() : state.interval, null, this.interval.stats());
    if (phase === 'train') state.interval = emptyAcc();
    this.interval.reset();
  }

  /**
   * The epoch's record, with its val metrics (null when not evaluated) and the training
   * pace taken before the evaluation (`epoch.stats()` then), so img/s counts training only.
   */
  endEpoch(val: ClassMetrics | null, timing: ReturnType<Timer['stats']>): void {
    this.write('epoch', this.p.state.epochAcc, val, timing);
    this.p.state.epochAcc = emptyAcc();
  }

  private write(
    kind: 'step' | 'epoch',
    train: Acc,
    val: ClassMetrics | null,
    timing: ReturnType<Timer['stats']>,
  ): MetricsRecord {
    const { state, trainer, plan } = this.p;
    const tr = meanOf(train);
    const rec: MetricsRecord = {
      kind,
      phase: plan.phaseAt(state.iter),
      step: trainer.step,
      epoch: state.iter / plan.batchesPerEpoch,
      mirror_steps: plan.mirrorSteps(state.iter),
      train_loss: tr.loss,
      train_top1: tr.top1,
      train_top5: tr.top5,
      val_loss: val?.loss ?? null,
      val_top1: val?.top1Error ?? null,
      val_top5: val?.top5Error ?? null,
      lr: state.lr,
      ...timing,
      skipped: this.skipped(),
      wall_s: this.wall(),
    };
    this.p.log.write(rec);
    this.p.logger.info(
      { ...rec, ...this.p.eta.fields(state.iter) },
      kind === 'epoch' ? 'epoch' : rec.phase === 'mirror' ? 'mirror' : 'step',
    );
    this.p.progress.record(rec);
    const prefix = kind === 'epoch' ? 'epoch/' : '';
    this.p.tb?.scalars(state.iter, {
      [`${prefix}train/loss`]: rec.train_loss,
      [`${prefix}train/top1_error`]: rec.train_top1,
      [`${prefix}train/top5_error`]: rec.train_top5,
      'val/loss': rec.val_loss,
      'val/top1_error': rec.val_top1,
      'val/top5_error': rec.val_top5,
      ...(kind === 'step' ? { lr: rec.lr, img_per_s: rec.img_per_s, data_wait: rec.data_wait } : {}),
    });
    return rec;
  }

  /**
   * Matrix and δ angles of every layer on one fixed val batch. A rule without a matrix at
   * a layer (DFA below its head) gives NaN: null in angles.jsonl, no TensorBoard point
   * (the writer skips non-finite values).
   */
  async angles(): Promise<void> {
    const { state, trainer, plan, loader } = this.p;
    if (!this.probe) {
      for await (const b of loader.epochBatches('val', 0)) {
        this.probe = b;
        break;
      }
    }
    if (!this.probe) return;
    const angles = await trainer.angles(this.probe);
    const base = {
      step: trainer.step,
      epoch: state.iter / plan.batchesPerEpoch,
      phase: plan.phaseAt(state.iter),
    };
    const recs: AngleRecord[] = angles.map((a) => ({
      ...base,
      layer: a.layer,
      index: a.index,
      matrix_angle: a.matrixAngle,
      delta_angle: a.deltaAngle,
    }));
    this.p.log.writeAngles(recs);
    const scalars: Record<string, number> = {};
    for (const a of angles) {
      scalars[`angles/matrix/${String(a.index).padStart(3, '0')}_${a.layer}`] = a.matrixAngle;
      scalars[`angles/delta/${String(a.index).padStart(3, '0')}_${a.layer}`] = a.deltaAngle;
    }
    this.p.tb?.scalars(state.iter, scalars);
  }
}
