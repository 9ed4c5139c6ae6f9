/**
 * The learning rules, one entry each. Everything else that lists rules derives from
 * here: the `rule:` config section (rule.name and each rule's options, src/rules/config.ts),
 * `optimizer.lr: auto`, the report's order and labels, `wtrain rules` (the sweep's
 * default), the preset checks and the tests that iterate over rules.
 *
 * A rule's code is its file in this folder, reached through `load`: a dynamic import, so
 * that the config loader (which imports this file) does not load tfjs; src/rules/index.ts
 * loads every rule once. Adding a rule = its file and one entry here.
 */
import type { z } from 'zod';
import { ssVariant, wmOptions } from './options.js';
import type { LearningRule, RuleContext } from './types.js';

/** What `load` resolves to: the rule's class, built from a context with (at least) its own options. */
// `any`: each rule narrows the options it reads (RuleContext<WmOptions>)
export type RuleClass = new (ctx: RuleContext<any>) => LearningRule;

export interface RuleSpec {
  /** `rule.name` in configs. */
  name: string;
  /** Label in reports and figures. */
  label: string;
  title: string;
  /** How δ travels back (README's table, `wtrain rules`). */
  feedback: string;
  /** Trained in Akrout et al. 2019 (so it has the paper's ImageNet presets, resnet18/50-<name>.yaml). */
  paper: boolean;
  /** Keys the rule adds to the `rule:` section, with their defaults. */
  options: z.ZodRawShape;
  /** `optimizer.lr: auto`: peak rate `lr` per `batch` images, scaled linearly with the batch size. */
  autoLr: { lr: number; batch: number };
  load: () => Promise<RuleClass>;
}

/** App. D.1: every rule but SS takes Goyal et al.'s rate, 0.1 per 256 images (0.8 at 2048). */
const GOYAL = { lr: 0.1, batch: 256 };

export const RULES = [
  {
    name: 'bp',
    label: 'BP',
    title: 'backprop',
    feedback: 'δ through Wᵀ (weight transport)',
    paper: true,
    options: {},
    autoLr: GOYAL,
    load: (): Promise<RuleClass> => import('./bp.js').then((m) => m.Backprop),
  },
  {
    name: 'fa',
    label: 'FA',
    title: 'feedback alignment',
    feedback: 'δ through fixed random B',
    paper: true,
    options: {},
    autoLr: GOYAL,
    load: (): Promise<RuleClass> => import('./fa.js').then((m) => m.FeedbackAlignment),
  },
  {
    name: 'ss',
    label: 'SS',
    title: 'sign-symmetry',
    feedback: 'δ through sign(W)·magnitude',
    paper: true,
    options: { ss_variant: ssVariant },
    /** App. D.1: the paper's grid search gave 0.5 at batch 2048. */
    autoLr: { lr: 0.5, batch: 2048 },
    load: (): Promise<RuleClass> => import('./ss.js').then((m) => m.SignSymmetry),
  },
  {
    name: 'wm',
    label: 'WM',
    title: 'weight mirrors',
    feedback: 'B learns W from noise in mirror mode (section 4, eq. 21)',
    paper: true,
    options: { wm: wmOptions },
    autoLr: GOYAL,
    load: (): Promise<RuleClass> => import('./wm.js').then((m) => m.WeightMirror),
  },
  {
    name: 'kp',
    label: 'KP',
    title: 'Kolen-Pollack',
    feedback: "B receives exactly W's updates and weight decay (section 5, eqs. 16-17)",
    paper: true,
    options: {},
    autoLr: GOYAL,
    load: (): Promise<RuleClass> => import('./kp.js').then((m) => m.KolenPollack),
  },
  {
    name: 'dfa',
    label: 'DFA',
    title: 'direct feedback alignment',
    feedback: 'δ_L straight to every layer through a fixed random matrix (Nøkland 2016)',
    paper: false,
    options: {},
    autoLr: GOYAL,
    load: (): Promise<RuleClass> => import('./dfa.js').then((m) => m.DirectFeedbackAlignment),
  },
] as const satisfies readonly RuleSpec[];

export type RuleName = (typeof RULES)[number]['name'];
export const RULE_NAMES = RULES.map((r) => r.name) as [RuleName, ...RuleName[]];

type UnionToIntersection<U> = (U extends unknown ? (u: U) => void : never) extends (u: infer I) => void
  ? I
  : never;
/** Every rule's own options, in one shape (each key belongs to one rule). */
export type RuleOptions = UnionToIntersection<(typeof RULES)[number]['options']>;

export function ruleSpec(name: RuleName): RuleSpec {
  return RULES.find((r) => r.name === name) as RuleSpec;
}

/** The report's label for a run's rule.name (the name upper-cased if no rule has it now). */
export function ruleLabel(name: string): string {
  return RULES.find((r) => r.name === name)?.label ?? name.toUpperCase();
}
