/**
 * The benchmark's only contact with the engine: build a Trainer for a net and rule
 * (src/train/trainer.ts, the code `wtrain run` trains with) and synthetic batches.
 */
import { initWebgpuBackend, registerWebgpuOps } from '../../src/backend/webgpu/index.js';
import { syntheticBatch, syntheticInfo } from '../../src/data/synthetic.js';
import type { DatasetInfo } from '../../src/data/types.js';
import { modelConfigSchema } from '../../src/models/config.js';
import { ruleConfigSchema } from '../../src/rules/config.js';
import { optimizerConfigSchema, trainConfigSchema } from '../../src/train/config.js';
import { createTrainer } from '../../src/train/trainer.js';
import type { Trainer } from '../../src/train/types.js';
import type { AnyRule, NetConfig } from './options.js';

export { syntheticBatch, syntheticInfo };

export async function buildTrainer(
  net: NetConfig,
  rule: AnyRule,
  info: DatasetInfo = syntheticInfo(net.size, 3, net.classes ?? 10),
): Promise<Trainer> {
  const wm = net.mirrorBatch ? { wm: { mirror_batch_size: net.mirrorBatch } } : {};
  return createTrainer(
    {
      model: modelConfigSchema.parse({ arch: net.arch, width: net.width }),
      rule: ruleConfigSchema.parse({ name: rule, ...(rule === 'wm' ? wm : {}) }),
      optimizer: optimizerConfigSchema.parse({}),
      train: trainConfigSchema.parse({ batch_size: net.batch }),
    },
    info,
  );
}

/** The conv layers of a trainer's model, for the per-layer kernel benchmark (engine internals; may be absent). */
export interface ConvLayerShape {
  name: string;
  inputShape: number[];
  filterShape: [number, number, number, number];
  stride: number;
  pad: number;
}

export function convLayers(trainer: Trainer): ConvLayerShape[] {
  const layers = (trainer as unknown as { layers?: Array<Partial<ConvLayerShape> & { kind?: string }> })
    .layers;
  if (!Array.isArray(layers)) return [];
  return layers
    .filter((l) => l.kind === 'conv' && l.inputShape && l.filterShape)
    .map((l) => ({
      name: l.name as string,
      inputShape: l.inputShape as number[],
      filterShape: l.filterShape as ConvLayerShape['filterShape'],
      stride: l.stride as number,
      pad: l.pad as number,
    }));
}

/**
 * The noise shapes of one WM mirror step (src/rules/wm.ts, one_at_a_time): one draw per
 * distinct input shape of the feedback layers (conv and dense), at the default mirror batch.
 */
export function mirrorNoiseShapes(trainer: Trainer): number[][] {
  const batch = ruleConfigSchema.parse({ name: 'wm' }).wm.mirror_batch_size;
  const layers = (trainer as unknown as { layers?: Array<{ inputShape?: number[] }> }).layers ?? [];
  const keys = new Set(layers.flatMap((l) => (l.inputShape ? [[batch, ...l.inputShape].join('x')] : [])));
  return [...keys].map((k) => k.split('x').map(Number));
}

/** Start webgpu with the project's kernels for a benchmark script, or exit 1 with the reason; returns the adapter. */
export async function webgpuOrExit(script: string): Promise<string> {
  const init = await initWebgpuBackend();
  if (!init.ok) {
    console.error(`${script}: ${init.reason}`);
    process.exit(1);
  }
  registerWebgpuOps();
  return init.adapter;
}
