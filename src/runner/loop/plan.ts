/**
 * The iteration plan of a run: how its batches divide into epochs, mirror-only batches
 * (WM's warm-up, App. D.2: "its first two epochs entirely in mirror mode") and engaged
 * steps, and when it ends. `iter` counts every batch done; `step` only engaged ones.
 */
export type Phase = 'mirror' | 'train';

export class IterationPlan {
  /** Batches of the whole run (epochs × batches per epoch, rounded up). */
  readonly totalIters: number;
  /** The first `mirrorIters` batches are the rule's warm-up (WM mirror steps), no training step. */
  readonly mirrorIters: number;
  /** `train.max_steps`, or infinity. */
  readonly maxSteps: number;
  /** Where the run stops: the end of the last epoch, or after max_steps engaged steps. */
  readonly endIter: number;

  constructor(
    readonly batchesPerEpoch: number,
    epochs: number,
    warmupEpochs: number,
    maxSteps: number | null,
  ) {
    this.totalIters = Math.ceil(epochs * batchesPerEpoch);
    this.mirrorIters = Math.round(warmupEpochs * batchesPerEpoch);
    this.maxSteps = maxSteps ?? Number.POSITIVE_INFINITY;
    this.endIter = Math.min(this.totalIters, this.mirrorIters + this.maxSteps);
  }

  /** Whether the batch after `iter` batches would be a warm-up batch (the phase a record at `iter` reports). */
  phaseOf(iter: number): Phase {
    return iter < this.mirrorIters ? 'mirror' : 'train';
  }

  /** The phase of the last batch done (the first one's before any). */
  phaseAt(iter: number): Phase {
    return this.phaseOf(Math.max(0, iter - 1));
  }

  epochOf(iter: number): number {
    return Math.floor(iter / this.batchesPerEpoch);
  }

  /** The iteration at which `epoch` ends (the run's end within its last epoch). */
  epochEnd(epoch: number): number {
    return Math.min((epoch + 1) * this.batchesPerEpoch, this.totalIters);
  }

  /** Warm-up batches done by `iter`. */
  mirrorSteps(iter: number): number {
    return Math.min(iter, this.mirrorIters);
  }

  finished(iter: number, step: number): boolean {
    return iter >= this.totalIters || step >= this.maxSteps;
  }

  /** Whether `iter` closes an epoch (or the run), so its end-of-epoch work is due. */
  atEpochEnd(iter: number, step: number): boolean {
    return iter % this.batchesPerEpoch === 0 || this.finished(iter, step);
  }
}
