import type { ClassMetrics } from '../train/types.js';

/** Sample-weighted sums of train metrics, in float64, in a fixed order (so resumes reproduce them exactly). */
export interface Acc {
  loss: number;
  top1: number;
  top5: number;
  samples: number;
}

export const emptyAcc = (): Acc => ({ loss: 0, top1: 0, top5: 0, samples: 0 });

export function addMetrics(acc: Acc, m: ClassMetrics): void {
  if (m.samples <= 0) return;
  acc.loss += m.loss * m.samples;
  acc.top1 += m.top1Error * m.samples;
  acc.top5 += m.top5Error * m.samples;
  acc.samples += m.samples;
}

export function meanOf(acc: Acc): { loss: number | null; top1: number | null; top5: number | null } {
  if (acc.samples === 0) return { loss: null, top1: null, top5: null };
  return { loss: acc.loss / acc.samples, top1: acc.top1 / acc.samples, top5: acc.top5 / acc.samples };
}

/** Wall-clock time split into waiting for data and everything else, plus images done. */
export class Timer {
  private start = performance.now();
  /** Milliseconds that are not training (an evaluation inside the interval). */
  private excluded = 0;
  wait = 0;
  images = 0;

  reset(): void {
    this.start = performance.now();
    this.excluded = 0;
    this.wait = 0;
    this.images = 0;
  }

  /** Leave `ms` out of the interval's time (an evaluation and checkpoint between its batches). */
  exclude(ms: number): void {
    this.excluded += ms;
  }

  stats(): { img_per_s: number | null; data_wait: number | null } {
    const total = (performance.now() - this.start - this.excluded) / 1000;
    if (this.images === 0 || total <= 0) return { img_per_s: null, data_wait: null };
    return { img_per_s: this.images / total, data_wait: Math.min(1, this.wait / 1000 / total) };
  }
}
