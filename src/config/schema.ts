/**
 * The full run config: the engine's and data layer's sections plus the runner's own
 * keys (`name`, `run:`). `extends:` and `smoke:` are resolved by the loader before
 * validation (see load.ts) and never appear in a resolved config.
 */
import { z } from 'zod';
import { backendConfigSchema } from '../backend/config.js';
import { dataConfigSchema } from '../data/config.js';
import { modelConfigSchema } from '../models/config.js';
import { ruleConfigSchema } from '../rules/config.js';
import { optimizerConfigSchema, scheduleConfigSchema, trainConfigSchema } from '../train/config.js';

/** The `run:` section: where the run lives and how it records itself (nothing here changes the learning). */
export const runSectionSchema = z
  .strictObject({
    /** Folder that holds run directories (`<runs_root>/<name>/`), relative to the working directory. */
    runs_root: z.string().min(1).default('runs'),
    /** Explicit run directory; wins over `runs_root`/`name`. */
    run_dir: z.string().min(1).nullable().default(null),
    /** Write a checkpoint every this many `checkpoint_unit`s (0 = only at the end and on a signal). */
    checkpoint_every: z.number().min(0).default(1),
    checkpoint_unit: z.enum(['epoch', 'step']).default('epoch'),
    /** How many of the latest periodic checkpoints to keep (the best one is kept on top). */
    keep_checkpoints: z.number().int().min(1).default(3),
    /** Keep the checkpoint with the lowest val top-1 error as `best`. */
    keep_best: z.boolean().default(true),
    /** Write TensorBoard scalars (`events.out.tfevents.*`). */
    tensorboard: z.boolean().default(true),
    /** Render `report/` (figures + report.html) when the run ends. */
    report: z.boolean().default(true),
    /** auto = bars on a TTY, pino lines otherwise. */
    progress: z.enum(['auto', 'bars', 'lines', 'none']).default('auto'),
  })
  .prefault({});

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export const configSchema = z.strictObject({
  /** Run name: the run directory is `<run.runs_root>/<name>`. Default: `<config file>-<yyyymmdd-hhmmss>`. */
  name: z
    .string()
    .regex(NAME_RE, 'expected letters, digits, ".", "_" or "-" (no "/" or spaces)')
    .nullable()
    .default(null),
  description: z.string().default(''),
  model: modelConfigSchema,
  rule: ruleConfigSchema,
  optimizer: optimizerConfigSchema,
  schedule: scheduleConfigSchema,
  train: trainConfigSchema,
  backend: backendConfigSchema,
  data: dataConfigSchema,
  run: runSectionSchema,
});

/** Keys handled by the loader before validation (still valid at the top level of a file). */
export const LOADER_KEYS = ['extends', 'smoke'] as const;

export type Config = z.infer<typeof configSchema>;
export type RunSection = z.infer<typeof runSectionSchema>;

/**
 * Built-in `--smoke` overrides, applied before a file's own `smoke:` section: a handful
 * of steps that exercise logging, angles, evaluation, checkpoints and the report.
 */
export const SMOKE_DEFAULTS = {
  train: { epochs: 2, max_steps: 4, log_every: 1, angles_every: 2, eval_every: 1, eval_batches: 2 },
  rule: { wm: { mirror_epochs: 0.25 } },
  run: { checkpoint_every: 2, checkpoint_unit: 'step' },
  // A few steps never reach a decay; the presets' decays are beyond the 2 epochs above.
  schedule: { decay_epochs: [] },
};

/** Names are checked by the schema; this helper is for a `--name` flag. */
export function isValidRunName(name: string): boolean {
  return NAME_RE.test(name);
}
