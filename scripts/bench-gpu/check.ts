/**
 * Correctness of the webgpu training step on this machine's GPU (not a benchmark): one
 * step of each rule on the cpu backend and on webgpu from the same state and batch
 * (scripts/bench-gpu/numerics.ts), under the default tuning and under each variant that
 * swaps one of our kernels for tfjs's, so a mismatch points at the kernel at fault; and
 * the default twice on webgpu, which must agree (a data race shows up as a difference).
 *
 * One step is not continuous in its inputs: where a ReLU input lies within rounding of 0,
 * two backends can take opposite sides of the mask, which moves one element of δ and so
 * a BN's dβ and a whole output channel of dW by 1e-3 to 1e-1. At ResNet-20 batch 8 that
 * happened for two of the four synthetic batches tried (seed 3: wasm and webgpu against
 * cpu; seed 4: webgpu on lavapipe, in every variant alike). So each row runs several batches
 * (--seeds) at batch 2 (a quarter of the ReLU inputs, so fewer kinks) and passes when
 * most of them are within tolerance: a faulty kernel would fail most. The wasm
 * backend is a second reference, which can meet such kinks against cpu too.
 * Writes check.md and check.json to --out (default $OUT).
 *
 *   node --import tsx scripts/gpu-check.ts [--rules kp,bp] [--batch 2] [--seeds 1,2,3] [--arch resnet20]
 *     [--size 32] [--width 1] [--variants default,...] [--out DIR]
 * ImageNet shapes, default tuning only (minutes on lavapipe, most of it the cpu backend):
 *   node --import tsx scripts/gpu-check.ts --arch resnet50 --size 224 --batch 2 --rules kp --seeds 1 --variants default
 *   node bundle/bench-gpu.mjs check ...      (the bundle; bench-gpu.sh check runs it on the GPU node)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { backendConfigSchema } from '../../src/backend/config.js';
import { initBackend } from '../../src/backend/index.js';
import { withErrorScopes } from '../../src/backend/webgpu/device_errors.js';
import { registerWebgpuOps, webgpuFinish } from '../../src/backend/webgpu/index.js';
import type { WebGPUBackend } from '../../src/backend/webgpu/program.js';
import { compareDeltas, type NumericsResult, stepDeltas } from './numerics.js';
import {
  type AnyRule,
  CONV_VARIANTS,
  FUSION_VARIANTS,
  type NetConfig,
  type TuningVariant,
} from './options.js';
import { webgpuOrExit } from './trainer.js';

/** Each swaps one group of our kernels for tfjs's (or our other path). */
const VARIANTS: TuningVariant[] = [
  { name: 'default', tuning: {} },
  ...CONV_VARIANTS,
  { name: 'submit every dispatch', tuning: { submitBatch: 1 } },
  ...FUSION_VARIANTS,
];

interface CheckRow {
  rule: AnyRule;
  variant: string;
  /** One comparison per seed, in --seeds order. */
  seeds: Array<NumericsResult & { seed: number }>;
  /** Within tolerance on most seeds, and no device error. */
  ok: boolean;
  deviceError: string | null;
}

function parse(argv: string[]) {
  const o = {
    rules: ['kp', 'bp'] as AnyRule[],
    batch: 2,
    seeds: [1, 2, 3],
    arch: 'resnet20',
    size: 32,
    width: 1,
    /** Names of the variants to run (default: all). */
    variants: null as string[] | null,
    out: process.env.OUT || 'gpu-check',
  };
  const ints = (v: string, name: string) => {
    const xs = v.split(',').map(Number);
    if (xs.some((x) => !Number.isInteger(x) || x < 1))
      throw new Error(`gpu-check: ${name} takes positive whole numbers, not ${v}`);
    return [...new Set(xs)];
  };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i + 1];
    if (v === undefined) throw new Error(`gpu-check: ${argv[i]} needs a value`);
    if (argv[i] === '--rules') o.rules = v.split(',') as AnyRule[];
    else if (argv[i] === '--batch') o.batch = ints(v, '--batch')[0];
    else if (argv[i] === '--seeds') o.seeds = ints(v, '--seeds');
    else if (argv[i] === '--arch') o.arch = v;
    else if (argv[i] === '--size') o.size = ints(v, '--size')[0];
    else if (argv[i] === '--width') o.width = Number(v);
    else if (argv[i] === '--variants') o.variants = v.split(',');
    else if (argv[i] === '--out') o.out = v;
    else throw new Error(`gpu-check: unknown argument ${argv[i]}`);
    i++;
  }
  return o;
}

/** One step on webgpu; a device error during it (withErrorScopes) or an exception is its error. */
async function webgpuDeltas(
  net: NetConfig,
  rule: AnyRule,
  seed: number,
): Promise<{ deltas: Map<string, Float32Array> | null; error: string | null }> {
  await tf.setBackend('webgpu');
  let deltas: Map<string, Float32Array> | null = null;
  let thrown: string | null = null;
  const scoped = await withErrorScopes((tf.backend() as unknown as WebGPUBackend).device, async () => {
    try {
      deltas = await stepDeltas('webgpu', net, rule, seed);
      await webgpuFinish();
    } catch (err) {
      thrown = (err as Error).message;
    }
  });
  const error = scoped ?? thrown;
  return { deltas, error: error ? error.split('\n')[0] : null };
}

const WASM_ROW = 'wasm backend (the second reference)';

const fmt = (x: number) => (Number.isFinite(x) ? x.toExponential(1) : String(x));

/** Most seeds within tolerance (a kink fails one batch; a faulty kernel would fail most). */
const mostlyOk = (seeds: NumericsResult[]) => seeds.filter((r) => r.ok).length * 2 > seeds.length;

function markdown(rows: CheckRow[], adapter: string, net: NetConfig, seeds: number[]): string {
  const lines = [
    `## webgpu vs cpu, one training step (${adapter})`,
    '',
    `${net.label}, synthetic batch seeds ${seeds.join(', ')}, lr 1; error = max |webgpu − cpu| / max |cpu| of each tensor's change, worst tensor per seed; ok when most seeds are within tolerance; "run 2 vs run 1" compares two webgpu runs.`,
    '',
    '| rule | variant | max rel. error per seed | tolerance | ok | worst tensor (worst seed) |',
    '| --- | --- | --- | --- | --- | --- |',
  ];
  for (const r of rows) {
    const worst = r.seeds.reduce<(typeof r.seeds)[number] | null>(
      (a, b) => (a === null || b.worstRelErr > a.worstRelErr ? b : a),
      null,
    );
    const ok = r.deviceError ? `NO (error: ${r.deviceError})` : r.ok ? 'yes' : 'NO';
    const errs = r.seeds.map((x) => fmt(x.worstRelErr)).join(' / ') || '–';
    const where = worst ? `${worst.worstTensor} (seed ${worst.seed})` : '–';
    lines.push(
      `| ${r.rule.toUpperCase()} | ${r.variant} | ${errs} | ${worst?.tolerance ?? '–'} | ${ok} | ${where} |`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** Run the check with its command-line arguments; 0 when every row passes. */
export async function gpuCheck(argv: string[]): Promise<number> {
  const o = parse(argv);
  mkdirSync(o.out, { recursive: true });
  const adapter = await webgpuOrExit('gpu-check');
  const net: NetConfig = {
    arch: o.arch as NetConfig['arch'],
    width: o.width,
    batch: o.batch,
    size: o.size,
    label: `${o.arch}${o.width === 1 ? '' : ` x${o.width}`} b${o.batch} ${o.size}px`,
  };
  const variants = VARIANTS.filter((v) => !o.variants || o.variants.includes(v.name));
  if (variants.length === 0)
    throw new Error(`gpu-check: --variants matches none of: ${VARIANTS.map((v) => v.name).join(', ')}`);
  const rows: CheckRow[] = [];
  const save = () => {
    writeFileSync(path.join(o.out, 'check.json'), `${JSON.stringify({ adapter, rows }, null, 2)}\n`);
    writeFileSync(path.join(o.out, 'check.md'), markdown(rows, adapter, net, o.seeds));
  };
  const row = (rule: AnyRule, variant: string): CheckRow => {
    let r = rows.find((x) => x.rule === rule && x.variant === variant);
    if (!r) {
      r = { rule, variant, seeds: [], ok: false, deviceError: null };
      rows.push(r);
    }
    return r;
  };
  const add = (r: CheckRow, seed: number, res: NumericsResult | null, deviceError: string | null = null) => {
    if (res) r.seeds.push({ ...res, seed });
    r.deviceError ??= deviceError;
    r.ok = !r.deviceError && mostlyOk(r.seeds);
    process.stderr.write(
      `gpu-check: ${r.rule} seed ${seed} [${r.variant}]: ${res ? `${res.worstTensor} ${fmt(res.worstRelErr)}` : deviceError}\n`,
    );
    save();
  };
  await initBackend(backendConfigSchema.parse({ name: 'wasm' }));
  for (const rule of o.rules) {
    for (const seed of o.seeds) {
      const ref = await stepDeltas('cpu', net, rule, seed);
      const wasm = await stepDeltas('wasm', net, rule, seed);
      add(row(rule, WASM_ROW), seed, compareDeltas(net, rule, ref, wasm));
      let first: Map<string, Float32Array> | null = null;
      for (const v of variants) {
        if (v.rules && !v.rules.includes(rule)) continue;
        registerWebgpuOps(v.tuning);
        const got = await webgpuDeltas(net, rule, seed);
        add(row(rule, v.name), seed, got.deltas && compareDeltas(net, rule, ref, got.deltas), got.error);
        if (!got.error) first ??= got.deltas;
      }
      registerWebgpuOps();
      if (seed === o.seeds[0] && first) {
        // Two runs of one program on one GPU: any difference is a race or an uninitialised read.
        const again = await webgpuDeltas(net, rule, seed);
        add(
          row(rule, 'default, run 2 vs run 1'),
          seed,
          again.deltas && compareDeltas(net, rule, first, again.deltas, 0),
          again.error,
        );
      }
    }
  }
  save();
  process.stdout.write(markdown(rows, adapter, net, o.seeds));
  // The wasm row is shown as the references' own distance; it does not judge the GPU.
  return rows.every((r) => r.ok || r.variant === WASM_ROW) ? 0 : 1;
}
