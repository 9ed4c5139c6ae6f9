/** Command line of scripts/bench-gpu.ts and the benchmark matrix it implies. */
import type { WebgpuTuning } from '../../src/backend/webgpu/index.js';
import type { ModelConfig } from '../../src/models/config.js';
import type { RuleConfig } from '../../src/rules/config.js';

/** The rules the step benchmark times (the numerics check and tests take any rule). */
export type Rule = 'bp' | 'kp';
export type AnyRule = RuleConfig['name'];

/** A webgpu tuning to compare with the default; `rules`: the rules it changes anything for (all when absent). */
export interface TuningVariant {
  name: string;
  tuning: Partial<WebgpuTuning>;
  rules?: AnyRule[];
}

/** Our conv kernels swapped for tfjs's (or dx's other program choices), for bench-gpu's variants and gpu-check. */
export const CONV_VARIANTS: TuningVariant[] = [
  { name: 'stock tfjs dW', tuning: { filterGrad: 'stock' } },
  { name: 'naive dx (tfjs default)', tuning: { inputGrad: 'naive' } },
  { name: 'matmul dx everywhere', tuning: { inputGrad: 'mm' } },
];

/** The fusions that can be switched off, for bench-gpu's variants and bench-dispatch. */
export const FUSION_VARIANTS: TuningVariant[] = [
  { name: 'SGD: 2 dispatches per parameter', tuning: { sgd: 'each' } },
  { name: 'ReLU, ReLU→BN and loss head as tf ops', tuning: { smallOps: 'stock' } },
  { name: 'bind groups and uniform buffers made per dispatch', tuning: { hostCaches: 'off' } },
  { name: 'noise drawn on the host and uploaded', tuning: { noise: 'host' }, rules: ['wm'] },
  { name: 'input batch converted to floats on the host', tuning: { inputs: 'host' } },
];

/** The variants of `list` that matter for `rule`. */
export const variantsFor = (list: TuningVariant[], rule: AnyRule): TuningVariant[] =>
  list.filter((v) => !v.rules || v.rules.includes(rule));

export interface NetConfig {
  /** Row label, e.g. `resnet18 b512 32px`. */
  label: string;
  arch: ModelConfig['arch'];
  width: number;
  batch: number;
  size: number;
  /** Output classes (default 10; the ImageNet rows use 1000). */
  classes?: number;
  /** WM's mirror batch (default: the rule's default, 32). */
  mirrorBatch?: number;
}

export interface BenchOptions {
  tiny: boolean;
  out: string;
  steps: number;
  warmup: number;
  rules: Rule[];
  only: string | null;
  torch: boolean;
  python: string;
  torchDevice: string;
  torchScript: string | null;
  epoch: boolean;
  epochBatch: number;
  cifar: string | null;
  variants: boolean;
  profile: boolean;
  kernels: boolean;
  numerics: boolean;
  /** Issue 16: ResNet-18/50 at 224 px, batch 128/256 (imagenet.ts); `bigRules` first, `extraRules` when time allows. */
  imagenet: boolean;
  bigRules: AnyRule[];
  extraRules: AnyRule[];
  bigSteps: number;
  bigWarmup: number;
  /** WM's mirror batch in the ImageNet rows; null: the training batch (the paper's App. D.2). */
  wmMirrorBatch: number | null;
  /** Imagewoof-like source of the ImageNet-like JPEG set (data section and the end-to-end epoch). */
  woof: string | null;
  woofTrainPerClass: number | null;
  woofValPerClass: number | null;
  dataThreads: number[];
  data: boolean;
  e2e: boolean;
  /** The older sections (32/112 px steps, CIFAR-10 epoch, variants, kernels): after the issue's. */
  legacy: boolean;
}

const USAGE = `usage: bench-gpu [--tiny] [--out DIR] [--steps N] [--warmup N] [--rules bp,kp]
  [--only SUBSTRING] [--cifar DIR] [--epoch-batch N] [--python CMD] [--torch-device cuda|cpu] [--torch-script FILE]
  [--no-torch] [--no-epoch] [--no-variants] [--no-profile] [--no-kernels] [--no-numerics]
  [--big-rules bp,kp,wm] [--extra-rules fa,ss] [--big-steps N] [--big-warmup N] [--wm-mirror-batch N]
  [--woof DIR] [--woof-per-class TRAIN,VAL] [--data-threads 1,2,4,8,16]
  [--no-imagenet] [--no-data] [--no-e2e] [--no-legacy]`;

const list = (v: string) => v.split(',').filter(Boolean);

export function parseOptions(argv: string[]): BenchOptions {
  const o: BenchOptions = {
    tiny: false,
    out: process.env.OUT || 'bench-results',
    steps: 10,
    warmup: 3,
    rules: ['bp', 'kp'],
    only: null,
    torch: true,
    python: process.env.PYTHON || 'python3',
    torchDevice: 'cuda',
    torchScript: null,
    epoch: true,
    epochBatch: 128,
    cifar: process.env.CIFAR10_DIR || null,
    variants: true,
    profile: true,
    kernels: true,
    numerics: true,
    imagenet: true,
    bigRules: ['bp', 'kp', 'wm'],
    extraRules: ['fa', 'ss'],
    bigSteps: 5,
    bigWarmup: 2,
    wmMirrorBatch: null,
    woof: process.env.WOOF_DIR || null,
    woofTrainPerClass: null,
    woofValPerClass: null,
    dataThreads: [1, 2, 4, 8, 16],
    data: true,
    e2e: true,
    legacy: true,
  };
  const num = (v: string | undefined, name: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new Error(`${name} needs a whole number\n${USAGE}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value\n${USAGE}`);
      return v;
    };
    if (a === '--tiny') o.tiny = true;
    else if (a === '--out') o.out = next();
    else if (a === '--steps') o.steps = Math.max(1, num(next(), a));
    else if (a === '--warmup') o.warmup = num(next(), a);
    else if (a === '--rules') o.rules = next().split(',') as Rule[];
    else if (a === '--only') o.only = next();
    else if (a === '--cifar') o.cifar = next();
    else if (a === '--epoch-batch') o.epochBatch = Math.max(1, num(next(), a));
    else if (a === '--python') o.python = next();
    else if (a === '--torch-device') o.torchDevice = next();
    else if (a === '--torch-script') o.torchScript = next();
    else if (a === '--no-torch') o.torch = false;
    else if (a === '--no-epoch') o.epoch = false;
    else if (a === '--no-variants') o.variants = false;
    else if (a === '--no-profile') o.profile = false;
    else if (a === '--no-kernels') o.kernels = false;
    else if (a === '--no-numerics') o.numerics = false;
    else if (a === '--big-rules') o.bigRules = list(next()) as AnyRule[];
    else if (a === '--extra-rules') o.extraRules = list(next()) as AnyRule[];
    else if (a === '--big-steps') o.bigSteps = Math.max(1, num(next(), a));
    else if (a === '--big-warmup') o.bigWarmup = num(next(), a);
    else if (a === '--wm-mirror-batch') o.wmMirrorBatch = Math.max(1, num(next(), a));
    else if (a === '--woof') o.woof = next();
    else if (a === '--woof-per-class') {
      const [train, val] = list(next()).map((v) => num(v, a));
      [o.woofTrainPerClass, o.woofValPerClass] = [train, val ?? train];
    } else if (a === '--data-threads') o.dataThreads = list(next()).map((v) => Math.max(1, num(v, a)));
    else if (a === '--no-imagenet') o.imagenet = false;
    else if (a === '--no-data') o.data = false;
    else if (a === '--no-e2e') o.e2e = false;
    else if (a === '--no-legacy') o.legacy = false;
    else if (a === '--help' || a === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else throw new Error(`unknown argument ${a}\n${USAGE}`);
  }
  for (const r of o.rules) if (r !== 'bp' && r !== 'kp') throw new Error(`--rules: bp and/or kp, not ${r}`);
  for (const r of [...o.bigRules, ...o.extraRules])
    if (!['bp', 'fa', 'ss', 'wm', 'kp'].includes(r))
      throw new Error(`--big-rules/--extra-rules: bp fa ss wm kp, not ${r}`);
  if (o.tiny) {
    o.steps = Math.min(o.steps, 2);
    o.warmup = Math.min(o.warmup, 1);
    o.epochBatch = Math.min(o.epochBatch, 16);
    o.bigSteps = Math.min(o.bigSteps, 2);
    o.bigWarmup = Math.min(o.bigWarmup, 1);
    o.dataThreads = o.dataThreads.filter((t) => t <= 2);
    o.woofTrainPerClass ??= 3;
    o.woofValPerClass ??= 1;
  }
  return o;
}

/**
 * Issue 16's matrix, in the order it is measured: ResNet-18 and ResNet-50 at 224 px and
 * 1000 classes, batch 128 then 256. Tiny (lavapipe): width 1/8, batch 2 and 4, 32 px.
 */
export function imagenetNets(o: BenchOptions): NetConfig[] {
  const full = [
    { arch: 'resnet18', batch: 128 },
    { arch: 'resnet50', batch: 128 },
    { arch: 'resnet18', batch: 256 },
    { arch: 'resnet50', batch: 256 },
  ] as const;
  return full.map((n) => {
    const batch = o.tiny ? n.batch / 64 : n.batch;
    return {
      label: `${n.arch} b${n.batch} 224px${o.tiny ? ' tiny' : ''}`,
      arch: n.arch,
      width: o.tiny ? 0.125 : 1,
      batch,
      size: o.tiny ? 32 : 224,
      classes: 1000,
      mirrorBatch: o.wmMirrorBatch ?? batch,
    };
  });
}

/** The first GPU matrix (docs/gpu.md, Results): ResNet-20 and ResNet-18 at 32 px, batch 128 and 512; ResNet-18 at 112 px, batch 128. */
export function netConfigs(o: BenchOptions): NetConfig[] {
  const full: Array<Omit<NetConfig, 'label' | 'width'>> = [
    { arch: 'resnet20', batch: 128, size: 32 },
    { arch: 'resnet20', batch: 512, size: 32 },
    { arch: 'resnet18', batch: 128, size: 32 },
    { arch: 'resnet18', batch: 512, size: 32 },
    { arch: 'resnet18', batch: 128, size: 112 },
  ];
  const nets = full.map((n) =>
    o.tiny
      ? {
          ...n,
          width: n.arch === 'resnet18' ? 0.125 : 0.25,
          batch: n.batch / 64,
          size: Math.min(n.size, 32) / 2,
        }
      : { ...n, width: 1 },
  );
  // Tiny nets keep the full matrix's labels (with ' tiny'), so rows map one to one.
  const labelled = nets.map((n, i) => ({
    ...n,
    label: `${full[i].arch} b${full[i].batch} ${full[i].size}px${o.tiny ? ' tiny' : ''}`,
  }));
  return o.only ? labelled.filter((n) => n.label.includes(o.only as string)) : labelled;
}

/** What a section of the run gets besides its own slot in the results: options, time left, saving, the log. */
export interface SectionBase {
  o: BenchOptions;
  /** Seconds left of BENCH_BUDGET_S. */
  timeLeft: () => number;
  save: () => void;
  log: (msg: string) => void;
}
