/**
 * The runner's view of the engine and the data layer, loaded lazily so that commands
 * that don't train (list, report, config) never load TensorFlow.js, and so tests can
 * inject a fake engine.
 */
import type pino from 'pino';
import type { Config } from '../config/schema.js';
import type { BatchLoader, DatasetInfo } from '../data/types.js';
import type { Trainer } from '../train/types.js';

export interface TrainingStack {
  initBackend(cfg: Config['backend'], logger?: pino.Logger): Promise<{ name: string; reason: string }>;
  createLoader(
    cfg: Config['data'],
    opts: { seed: number; batchSize: number; baseDir: string; logger?: pino.Logger },
  ): BatchLoader | Promise<BatchLoader>;
  createTrainer(
    cfg: Pick<Config, 'model' | 'rule' | 'optimizer' | 'train'>,
    info: DatasetInfo,
    logger?: pino.Logger,
  ): Promise<Trainer>;
}

export class StackMissingError extends Error {}

/** Import one part; a missing module (not one of its dependencies) becomes an StackMissingError. */
async function importPart<T>(load: () => Promise<T>, file: string, what: string): Promise<T> {
  try {
    return await load();
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ERR_MODULE_NOT_FOUND' && e.message.includes(file)) {
      throw new StackMissingError(`${what} is not available in this build (${file} is missing)`);
    }
    throw err;
  }
}

/** The real stack: src/backend, src/data and src/train (literal imports, so bundlers include them). */
export async function loadTrainingStack(): Promise<TrainingStack> {
  const [backend, data, trainer] = await Promise.all([
    importPart(() => import('../backend/index.js'), 'backend/index', 'backend setup'),
    importPart(() => import('../data/index.js'), 'data/index', 'the data layer'),
    importPart(() => import('../train/trainer.js'), 'train/trainer', 'the trainer'),
  ]);
  return {
    initBackend: backend.initBackend,
    createLoader: data.createLoader,
    createTrainer: trainer.createTrainer,
  };
}

/**
 * The data loader, the backend and the trainer a config describes, in that order: a
 * mistake in the data is reported before any backend is chosen (whose diagnosis can run
 * to many lines). Relative data paths are resolved from `baseDir`.
 */
export async function openTrainingStack(
  stack: TrainingStack,
  config: Config,
  baseDir: string,
  logger: pino.Logger,
): Promise<{ loader: BatchLoader; trainer: Trainer; backend: { name: string; reason: string } }> {
  const loader = await stack.createLoader(config.data, {
    seed: config.train.seed,
    batchSize: config.train.batch_size,
    baseDir,
    logger,
  });
  try {
    const backend = await stack.initBackend(config.backend, logger);
    return { loader, trainer: await stack.createTrainer(config, loader.info, logger), backend };
  } catch (err) {
    await loader.close();
    throw err;
  }
}
