/** `wtrain eval`: a checkpoint's top-1/top-5 on the val split. */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { displayPath, loadConfig } from '../config/load.js';
import { DataError } from '../data/errors.js';
import type { ClassMetrics } from '../train/types.js';
import { UserError } from '../util/errors.js';
import { CheckpointStore, restoreTrainer } from './checkpoints.js';
import { createRunLogger, type LogLevel } from './logger.js';
import { checkDataPaths } from './preflight.js';
import { readMeta, runPaths } from './rundir.js';
import { loadTrainingStack, openTrainingStack, type TrainingStack } from './stack.js';

export interface EvalResult {
  checkpoint: string;
  split: 'val';
  metrics: ClassMetrics;
}

export function resolveCheckpoint(dir: string, which: string): string {
  const store = new CheckpointStore(runPaths(dir).checkpoints);
  const file = which === 'best' ? store.best() : which === 'last' ? store.latest() : path.resolve(which);
  if (file && existsSync(file)) return file;
  const hint =
    which === 'best' ? ' (no evaluation has improved yet, or keep_best is off: try --checkpoint last)' : '';
  throw new UserError(`${displayPath(dir)}: no '${which}' checkpoint${hint}`);
}

export async function evaluateRun(
  dir: string,
  opts: { checkpoint?: string; batches?: number; stack?: TrainingStack; logLevel?: LogLevel } = {},
): Promise<EvalResult> {
  const paths = runPaths(path.resolve(dir));
  if (!existsSync(paths.config))
    throw new UserError(`${displayPath(paths.dir)} is not a run directory (no config.yaml)`);
  // A run's config.yaml spells every default out: its decays are not held to train.epochs.
  const { config, where } = loadConfig(paths.config, { saved: true });
  checkDataPaths(config, where);
  const file = resolveCheckpoint(paths.dir, opts.checkpoint ?? 'best');
  const { logger } = createRunLogger({ level: opts.logLevel ?? 'warn', quiet: false, human: true });
  const engine = opts.stack ?? (await loadTrainingStack());
  const baseDir = readMeta(paths.dir)?.base_dir ?? paths.dir;
  const { loader, trainer } = await openTrainingStack(engine, config, baseDir, logger);
  try {
    restoreTrainer(trainer, new CheckpointStore(paths.checkpoints).load(file));
    const metrics = await trainer.evaluate(loader.epochBatches('val', 0), opts.batches);
    if (metrics.samples === 0) throw new DataError('the val split yielded no readable sample to evaluate');
    return { checkpoint: file, split: 'val', metrics };
  } finally {
    trainer.dispose();
    await loader.close();
  }
}
