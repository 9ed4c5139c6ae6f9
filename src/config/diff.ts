import { PATH_KEYS } from '../data/config.js';
import { isPlainObject } from './merge.js';
import type { Config } from './schema.js';

/**
 * Keys that may change between a run and its resume: where things are, how the run
 * records itself, how long it lasts, and which machine computes it. Everything else
 * (model, rule, optimizer, schedule, seed, batch size, data selection...) is
 * training-relevant: changing it makes resume refuse unless `--force`.
 */
export const RESUME_SAFE_KEYS = [
  'name',
  'description',
  'run',
  'backend',
  'train.epochs',
  'train.max_steps',
  'train.log_every',
  'train.angles_every',
  'train.eval_every',
  'train.eval_batches',
  ...PATH_KEYS.map((k) => `data.${k}`),
  'data.workers',
  'data.prefetch',
];

export interface Change {
  key: string;
  from: unknown;
  to: unknown;
}

/** Leaf-level differences between two configs (lists compare as a whole). */
export function diffConfigs(a: unknown, b: unknown, prefix = ''): Change[] {
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    return keys.flatMap((k) => diffConfigs(a[k], b[k], prefix ? `${prefix}.${k}` : k));
  }
  return JSON.stringify(a) === JSON.stringify(b) ? [] : [{ key: prefix, from: a, to: b }];
}

const isSafe = (key: string) => RESUME_SAFE_KEYS.some((s) => key === s || key.startsWith(`${s}.`));

/** Split the differences into training-relevant ones and the rest. */
export function classifyChanges(saved: Config, next: Config): { relevant: Change[]; safe: Change[] } {
  const all = diffConfigs(saved, next);
  return { relevant: all.filter((c) => !isSafe(c.key)), safe: all.filter((c) => isSafe(c.key)) };
}

export function formatChange(c: Change): string {
  return `${c.key}: ${JSON.stringify(c.from)} -> ${JSON.stringify(c.to)}`;
}
