import { z } from 'zod';

/** The `optimizer:` section: SGD with (Nesterov) momentum and L2 weight decay (App. D.1, after Goyal et al.). */
export const optimizerConfigSchema = z
  .strictObject({
    /** Peak learning rate; `auto` = the rule's paper value scaled linearly with batch size (0.1 per 256; SS 0.5 per 2048). */
    lr: z.union([z.literal('auto'), z.number().positive()]).default('auto'),
    momentum: z.number().min(0).max(1).default(0.9),
    nesterov: z.boolean().default(true),
    weight_decay: z.number().min(0).default(1e-4),
    /**
     * Whether biases and BatchNorm γ/β also get weight decay. The paper names λ only (App. D.1);
     * decaying them is this project's choice (Goyal et al. and the TPU ResNet leave γ/β undecayed).
     */
    decay_bias_and_bn: z.boolean().default(true),
  })
  .prefault({});

/** The `schedule:` section: linear warm-up, then step decay (App. D.1). Epochs may be fractional. */
export const scheduleConfigSchema = z
  .strictObject({
    warmup_epochs: z.number().min(0).default(6),
    /** Learning rate at the start of warm-up, as a fraction of the peak. */
    warmup_start_factor: z.number().min(0).max(1).default(0),
    /** Epochs after which the lr is multiplied by `decay_factor` (paper: 32, 62, 82). */
    decay_epochs: z.array(z.number().min(0)).default([32, 62, 82]),
    decay_factor: z.number().positive().default(0.1),
  })
  .prefault({});

/** The `train:` section: how long, how big, what to record. */
export const trainConfigSchema = z
  .strictObject({
    epochs: z.number().positive().default(90),
    batch_size: z.number().int().positive().default(128),
    /** Stop after this many optimiser steps (null = run all epochs). */
    max_steps: z.number().int().positive().nullable().default(null),
    seed: z.number().int().default(0),
    /** Per-layer matrix and δ angles every this many steps (0 = never). */
    angles_every: z.number().int().min(0).default(100),
    log_every: z.number().int().positive().default(50),
    /** Evaluate on the val split every this many epochs (0 = only at the end). */
    eval_every: z.number().min(0).default(1),
    /** Validation batches per evaluation (null = the whole val split). */
    eval_batches: z.number().int().positive().nullable().default(null),
  })
  .prefault({});

export type OptimizerConfig = z.infer<typeof optimizerConfigSchema>;
export type ScheduleConfig = z.infer<typeof scheduleConfigSchema>;
export type TrainConfig = z.infer<typeof trainConfigSchema>;
