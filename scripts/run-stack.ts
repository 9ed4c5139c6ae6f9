/**
 * A finished (or running) run's config and its seeded training stack, for analysis scripts
 * (feedback-weights.ts, wm-mirror-noise.ts): the trainer as the run built it before any step.
 */
import * as tf from '@tensorflow/tfjs-core';
import { loadConfig } from '../src/config/load.js';
import type { Config } from '../src/config/schema.js';
import { angleBetween } from '../src/metrics/angles.js';
import { createRunLogger } from '../src/runner/logger.js';
import { readMeta, runPaths } from '../src/runner/rundir.js';
import { loadTrainingStack, openTrainingStack } from '../src/runner/stack.js';

/** The run directory's saved config. */
export function runConfig(dir: string): Config {
  return loadConfig(runPaths(dir).config, { saved: true }).config;
}

/** The run's stack built from `config` (default: its own), data paths relative to where the run started. */
export async function openRunStack(dir: string, config: Config = runConfig(dir)) {
  const { logger } = createRunLogger({ level: 'warn', quiet: true, human: true });
  return openTrainingStack(await loadTrainingStack(), config, readMeta(dir)?.base_dir ?? dir, logger);
}

/** The matrix angle (degrees) between two flat arrays, by the metric the runs log (src/metrics/angles.ts). */
export function angleDeg(a: Float32Array, b: Float32Array): number {
  return tf.tidy(() => angleBetween(tf.tensor1d(a), tf.tensor1d(b)).dataSync()[0]);
}
