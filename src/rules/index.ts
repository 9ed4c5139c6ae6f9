import type { RuleConfig } from './config.js';
import type { RuleClass } from './registry.js';
import { RULES } from './registry.js';
import type { LearningRule, RuleContext } from './types.js';

/** Every rule's class, loaded once (src/rules/registry.ts keeps the loads lazy for the config loader). */
const classes = new Map(
  await Promise.all(
    RULES.map(async (spec) => {
      const Rule: RuleClass = await spec.load();
      return [spec.name, Rule] as const;
    }),
  ),
);

/** The rule `ctx.cfg.name` names, given the whole `rule:` section (each rule reads its own part). */
export function createRule(ctx: RuleContext<RuleConfig>): LearningRule {
  const Rule = classes.get(ctx.cfg.name);
  if (!Rule) throw new Error(`no learning rule named ${ctx.cfg.name}`);
  return new Rule(ctx);
}
export type { LearningRule, RuleContext } from './types.js';
