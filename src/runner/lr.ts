/**
 * The peak learning rate a run uses, as recorded in meta.json and the run log:
 * config.yaml keeps `optimizer.lr: auto` as written (so resume compares like with like),
 * and this says what `auto` came to and the batch size it was scaled to.
 */
import type { Config } from '../config/schema.js';
import { peakLearningRate } from '../train/schedule.js';

export interface LearningRateInfo {
  /** The peak learning rate (after warm-up, before decays). */
  peak: number;
  /** `auto`: the rule's rate scaled linearly with the batch size; `config`: optimizer.lr. */
  source: 'auto' | 'config';
  batch_size: number;
  /** `auto` only: the same rule's rate at 256 images, which the batch size scales. */
  per_256_images?: number;
}

export function learningRateInfo(config: Pick<Config, 'optimizer' | 'rule' | 'train'>): LearningRateInfo {
  const batch = config.train.batch_size;
  const peak = peakLearningRate(config.optimizer, config.rule, batch);
  if (config.optimizer.lr !== 'auto') return { peak, source: 'config', batch_size: batch };
  const per256 = peakLearningRate(config.optimizer, config.rule, 256);
  return { peak, source: 'auto', batch_size: batch, per_256_images: per256 };
}

/** `peak lr 0.05 (optimizer.lr auto: 0.1 per 256 images, at batch 128)`. */
export function formatLearningRate(i: LearningRateInfo): string {
  return i.source === 'auto'
    ? `peak lr ${i.peak} (optimizer.lr auto: ${i.per_256_images} per 256 images, at batch ${i.batch_size})`
    : `peak lr ${i.peak} (optimizer.lr, batch ${i.batch_size})`;
}
