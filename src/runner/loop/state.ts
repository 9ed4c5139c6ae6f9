import { type Acc, emptyAcc } from '../accum.js';
import type { LogFile } from '../metrics-log.js';

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
