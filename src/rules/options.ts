/**
 * The `rule:` keys a rule adds for itself, apart from its class: the config loader reads
 * them through src/rules/registry.ts without loading the rules' code (and tfjs), and each
 * rule's class types its context with them (RuleContext<SsOptions>), so neither imports
 * the registry back.
 */
import { z } from 'zod';

/** xiao = Xiao et al.'s code (conv sqrt(2/(k·k·C_out)), dense 1/sqrt(fan_in)), usf = sqrt(2/(fan_in+fan_out)), brsf = fresh random each batch, frsf = fixed random. */
export const ssVariant = z.enum(['xiao', 'usf', 'brsf', 'frsf']).default('xiao');

/** Weight mirror (App. D.2, Algorithm 1, eq. 21). */
export const wmOptions = z
  .strictObject({
    eta_b: z.number().positive().default(0.1),
    lambda_wm: z.number().min(0).max(1).default(0.5),
    /** Size of each mirror mini-batch of noise (paper: 2048 = the training batch). */
    mirror_batch_size: z.number().int().positive().default(32),
    /** Mirror-only warm-up epochs before engaged training starts (paper: 2). */
    mirror_epochs: z.number().min(0).default(2),
    /** Mirror steps after each training batch (paper: 1). */
    mirror_steps_per_batch: z.number().int().min(0).default(1),
    /** Standard deviation of the injected noise (paper: 1). */
    noise_std: z.number().positive().default(1),
    /** one_at_a_time: every layer each step (Alg. 1); alternate: half the layers per step; all_at_once: App. C.4. */
    mirror_layers: z.enum(['one_at_a_time', 'alternate', 'all_at_once']).default('one_at_a_time'),
    /** none = faithful to the paper; match_w_norm rescales B to ‖W‖ after each mirror step. */
    b_scale: z.enum(['none', 'match_w_norm']).default('none'),
  })
  .prefault({});

export type SsOptions = { ss_variant: z.infer<typeof ssVariant> };
export type WmOptions = { wm: z.infer<typeof wmOptions> };
