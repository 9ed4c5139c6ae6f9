/**
 * Correctness of the webgpu training step on this machine's GPU (not a benchmark): one
 * step of each rule on the cpu backend and on webgpu from the same state and batch
 * (scripts/bench-gpu/numerics.ts), under the default tuning and under each variant that
 * swaps one of our kernels for tfjs's, so a mismatch points at the kernel at fault; and
 * the default twice on webgpu, which must agree (a data race shows up as a difference).
 * The wasm backend is a second reference: where it too disagrees with cpu, the batch
 * sits on a kink (a ReLU input within rounding of 0 takes the other side of the mask
 * on one backend, which moves one element of δ and so a whole output channel of dW by
 * a few %: ResNet-20, batch 8, synthetic batch seed 3 does that on wasm, webgpu and
 * lavapipe alike, seeds 1, 2 and 4 agree to 1e-5), not on a bug: try another --seed.
 * Writes check.md and check.json to --out (default $OUT).
 *
 *   node --import tsx scripts/gpu-check.ts [--rules kp,bp] [--batch 8] [--seed 1] [--arch resnet20] [--out DIR]
 *   node bundle/bench-gpu.mjs check ...      (the bundle; bench-gpu.sh check runs it on the GPU node)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { initBackend } from '../../src/backend/index.js';
import { clearDeviceError } from '../../src/backend/webgpu/device_errors.js';
import { registerWebgpuOps, webgpuFinish } from '../../src/backend/webgpu/index.js';
import type { WebGPUBackend } from '../../src/backend/webgpu/program.js';
import { backendConfigSchema } from '../../src/train/config.js';
import { compareDeltas, type NumericsResult, stepDeltas } from './numerics.js';
import { type AnyRule, FUSION_VARIANTS, type NetConfig, type TuningVariant } from './options.js';
import { webgpuOrExit } from './trainer.js';

/** Each swaps one group of our kernels for tfjs's (or our other path). */
const VARIANTS: TuningVariant[] = [
  { name: 'default', tuning: {} },
  { name: 'stock tfjs dW', tuning: { filterGrad: 'stock' } },
  { name: 'naive dx (tfjs default)', tuning: { inputGrad: 'naive' } },
  { name: 'matmul dx everywhere', tuning: { inputGrad: 'mm' } },
  { name: 'narrow-layer conv kernels', tuning: { narrowConv: 'on' } },
  { name: 'submit every dispatch', tuning: { submitBatch: 1 } },
  ...FUSION_VARIANTS,
];

interface CheckRow extends NumericsResult {
  variant: string;
  deviceError: string | null;
}

function parse(argv: string[]) {
  const o = {
    rules: ['kp', 'bp'] as AnyRule[],
    batch: 8,
    seed: 1,
    arch: 'resnet20',
    out: process.env.OUT || 'gpu-check',
  };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i + 1];
    if (argv[i] === '--rules') o.rules = v.split(',') as AnyRule[];
    else if (argv[i] === '--batch') o.batch = Number(v);
    else if (argv[i] === '--seed') o.seed = Number(v);
    else if (argv[i] === '--arch') o.arch = v;
    else if (argv[i] === '--out') o.out = v;
    else throw new Error(`gpu-check: unknown argument ${argv[i]}`);
    i++;
  }
  return o;
}

async function webgpuDeltas(
  net: NetConfig,
  rule: AnyRule,
  seed: number,
): Promise<{ deltas: Map<string, Float32Array>; error: string | null }> {
  const deltas = await stepDeltas('webgpu', net, rule, seed);
  await webgpuFinish().catch(() => {});
  const error = clearDeviceError((tf.backend() as unknown as WebGPUBackend).device);
  return { deltas, error: error ? error.split('\n')[0] : null };
}

const fmt = (x: number) => (Number.isFinite(x) ? x.toExponential(1) : String(x));

function markdown(rows: CheckRow[], adapter: string, net: NetConfig, seed: number): string {
  const lines = [
    `## webgpu vs cpu, one training step (${adapter})`,
    '',
    `${net.label}, synthetic batch seed ${seed}, lr 1; error = max |webgpu − cpu| / max |cpu| of each tensor's change; "run 2 vs run 1" compares two webgpu runs.`,
    '',
    '| rule | variant | worst tensor | max rel. error | tolerance | ok | next worst |',
    '| --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const r of rows) {
    const next = r.worst
      .slice(1, 4)
      .map((w) => `${w.tensor} ${fmt(w.relErr)}`)
      .join('; ');
    const ok = r.deviceError ? `NO (device error: ${r.deviceError})` : r.ok ? 'yes' : 'NO';
    lines.push(
      `| ${r.rule.toUpperCase()} | ${r.variant} | ${r.worstTensor} | ${fmt(r.worstRelErr)} | ${r.tolerance} | ${ok} | ${next} |`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** Run the check with its command-line arguments; 0 when every row is within tolerance. */
export async function gpuCheck(argv: string[]): Promise<number> {
  const o = parse(argv);
  mkdirSync(o.out, { recursive: true });
  const adapter = await webgpuOrExit('gpu-check');
  const net: NetConfig = {
    arch: o.arch as NetConfig['arch'],
    width: 1,
    batch: o.batch,
    size: 32,
    label: `${o.arch} b${o.batch} 32px`,
  };
  const rows: CheckRow[] = [];
  const save = () => {
    writeFileSync(path.join(o.out, 'check.json'), `${JSON.stringify({ adapter, rows }, null, 2)}\n`);
    writeFileSync(path.join(o.out, 'check.md'), markdown(rows, adapter, net, o.seed));
  };
  await initBackend(backendConfigSchema.parse({ name: 'wasm' }));
  for (const rule of o.rules) {
    const ref = await stepDeltas('cpu', net, rule, o.seed);
    const wasm = await stepDeltas('wasm', net, rule, o.seed);
    rows.push({
      ...compareDeltas(net, rule, ref, wasm),
      variant: 'wasm backend (the second reference)',
      deviceError: null,
    });
    await tf.setBackend('webgpu');
    let first: Map<string, Float32Array> | null = null;
    for (const v of VARIANTS) {
      if (v.rules && !v.rules.includes(rule)) continue;
      registerWebgpuOps(v.tuning);
      const got = await webgpuDeltas(net, rule, o.seed);
      rows.push({ ...compareDeltas(net, rule, ref, got.deltas), variant: v.name, deviceError: got.error });
      first ??= got.deltas;
      process.stderr.write(
        `gpu-check: ${rule} [${v.name}]: ${rows.at(-1)?.worstTensor} ${fmt(rows.at(-1)?.worstRelErr ?? 0)}\n`,
      );
      save();
    }
    registerWebgpuOps();
    const again = await webgpuDeltas(net, rule, o.seed);
    if (first) {
      // Two runs of one program on one GPU: any difference is a race or an uninitialised read.
      rows.push({
        ...compareDeltas(net, rule, first, again.deltas, 0),
        variant: 'default, run 2 vs run 1',
        deviceError: again.error,
      });
      save();
    }
  }
  save();
  process.stdout.write(markdown(rows, adapter, net, o.seed));
  return rows.every((r) => r.ok && !r.deviceError) ? 0 : 1;
}
