import { Backprop } from './bp.js';
import { FeedbackAlignment } from './fa.js';
import { KolenPollack } from './kp.js';
import { SignSymmetry } from './ss.js';
import type { LearningRule, RuleContext } from './types.js';
import { WeightMirror } from './wm.js';

export function createRule(ctx: RuleContext): LearningRule {
  switch (ctx.cfg.name) {
    case 'bp':
      return new Backprop();
    case 'fa':
      return new FeedbackAlignment(ctx);
    case 'ss':
      return new SignSymmetry(ctx);
    case 'kp':
      return new KolenPollack(ctx);
    case 'wm':
      return new WeightMirror(ctx);
  }
}
export type { LearningRule, RuleContext } from './types.js';
