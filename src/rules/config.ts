import { z } from 'zod';
import { RULE_NAMES, RULES, type RuleOptions } from './registry.js';

/** Each rule's own keys (ss_variant, wm, ...), from its registry entry. */
const ruleOptions = Object.assign({}, ...RULES.map((r) => r.options)) as RuleOptions;

/** The `rule:` section of a run config: which learning rule makes and updates the feedback weights B. */
export const ruleConfigSchema = z
  .strictObject({
    name: z.enum(RULE_NAMES).default('bp'),
    ...ruleOptions,
    /** Seed offset for the feedback weights' initialisation (FA/WM/KP/DFA draw B independently of W). */
    feedback_seed: z.number().int().default(1),
  })
  .prefault({});
export type RuleConfig = z.infer<typeof ruleConfigSchema>;
