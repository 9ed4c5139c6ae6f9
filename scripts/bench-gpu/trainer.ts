/**
 * The benchmark's only contact with the engine: build a Trainer for a net and rule
 * (src/train/trainer.ts, the code `wtrain run` trains with) and synthetic batches.
 */
import type { Batch, DatasetInfo } from '../../src/data/types.js';
import { modelConfigSchema } from '../../src/models/config.js';
import { ruleConfigSchema } from '../../src/rules/config.js';
import { optimizerConfigSchema, trainConfigSchema } from '../../src/train/config.js';
import { createTrainer } from '../../src/train/trainer.js';
import type { Trainer } from '../../src/train/types.js';
import type { NetConfig, Rule } from './options.js';

export const CIFAR_MEAN = [0.4914, 0.4822, 0.4465];
export const CIFAR_STD = [0.247, 0.2435, 0.2616];

export function syntheticInfo(size: number, numClasses = 10): DatasetInfo {
  return {
    source: 'synthetic',
    numClasses,
    classNames: Array.from({ length: numClasses }, (_, i) => `class${i}`),
    height: size,
    width: size,
    channels: 3,
    mean: CIFAR_MEAN,
    std: CIFAR_STD,
    trainSize: 50000,
    valSize: 10000,
  };
}

/** A batch of pseudo-random pixels and labels (deterministic in `seed`). */
export function syntheticBatch(n: number, size: number, seed: number, numClasses = 10): Batch {
  const x = new Uint8Array(n * size * size * 3);
  let s = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < x.length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    x[i] = s & 255;
  }
  const y = Int32Array.from({ length: n }, (_, i) => (i * 7 + seed) % numClasses);
  return { x, y, n, height: size, width: size, channels: 3 };
}

export async function buildTrainer(
  net: NetConfig,
  rule: Rule,
  info: DatasetInfo = syntheticInfo(net.size),
): Promise<Trainer> {
  return createTrainer(
    {
      model: modelConfigSchema.parse({ arch: net.arch, width: net.width }),
      rule: ruleConfigSchema.parse({ name: rule }),
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
