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
import { z } from 'zod';

/** What `load` resolves to: the rule's LearningRule class (checked in src/rules/index.ts). */
export type RuleClass = new (ctx: never) => { readonly name: string };

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
    options: {
      /** xiao = Xiao et al.'s code (conv sqrt(2/(k·k·C_out)), dense 1/sqrt(fan_in)), usf = sqrt(2/(fan_in+fan_out)), brsf = fresh random each batch, frsf = fixed random. */
      ss_variant: z.enum(['xiao', 'usf', 'brsf', 'frsf']).default('xiao'),
    },
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
    options: {
      /** Weight mirror (App. D.2, Algorithm 1, eq. 21). */
      wm: z
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
        .prefault({}),
    },
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
