import type { RuleConfig } from '../rules/config.js';
import { ruleSpec } from '../rules/registry.js';
import type { OptimizerConfig, ScheduleConfig } from './config.js';

/**
 * Peak learning rate: `optimizer.lr`, or for `auto` the rule's rate (its registry entry's
 * autoLr; App. D.1: Goyal et al.'s 0.1 per 256 images, SS's grid search 0.5 at 2048),
 * scaled linearly with the batch size (Goyal et al.'s rule).
 */
export function peakLearningRate(opt: OptimizerConfig, rule: RuleConfig, batchSize: number): number {
  if (opt.lr !== 'auto') return opt.lr;
  const { lr, batch } = ruleSpec(rule.name).autoLr;
  return (lr * batchSize) / batch;
}

/**
 * Learning rate at a (fractional) epoch: linear warm-up over `warmup_epochs` starting
 * at `warmupStart` (0, or the mirror-only epochs for WM: "epochs 3 to 8"), then ×decay_factor
 * after each of `decay_epochs`.
 */
export function learningRateAt(
  epoch: number,
  peak: number,
  schedule: ScheduleConfig,
  warmupStart = 0,
): number {
  let factor = 1;
  const w = schedule.warmup_epochs;
  if (w > 0 && epoch < warmupStart + w) {
    const progress = Math.max(0, epoch - warmupStart) / w;
    factor = schedule.warmup_start_factor + (1 - schedule.warmup_start_factor) * progress;
  }
  for (const d of schedule.decay_epochs) if (epoch >= d) factor *= schedule.decay_factor;
  return peak * factor;
}
