import type * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../src/backend/index.js';
import { syntheticInfo } from '../src/data/synthetic.js';
import { modelConfigSchema } from '../src/models/config.js';
import type { FeedbackLayer } from '../src/models/layers/types.js';
import { ruleConfigSchema } from '../src/rules/config.js';
import { createRule } from '../src/rules/index.js';
import { optimizerConfigSchema, trainConfigSchema } from '../src/train/config.js';
import { NetworkTrainer } from '../src/train/trainer.js';

/** Deterministic pseudo-random floats in [-1, 1) (no tfjs RNG, so identical across backends). */
export function randomArray(size: number, seed: number): Float32Array {
  const out = new Float32Array(size);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = ((s >>> 0) / 4294967296) * 2 - 1;
  }
  return out;
}

export async function useBackend(name: 'cpu' | 'wasm'): Promise<void> {
  await initBackend({ name, threads: 1 });
}

/** max |a-b| / max |b|. */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return diff / (scale || 1);
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

/** Read a tensor into a plain array and dispose it. */
export function take(t: tf.Tensor): Float32Array {
  const d = Float32Array.from(t.dataSync() as Float32Array);
  t.dispose();
  return d;
}

export { syntheticBatch as fakeBatch, syntheticInfo as fakeInfo } from '../src/data/synthetic.js';

/** A small stack: config sections parsed from partial objects. */
export function smallEngine(
  opts: {
    arch?: string;
    width?: number;
    rule?: object;
    optimizer?: object;
    hw?: number;
    seed?: number;
    bn?: string;
  } = {},
): NetworkTrainer {
  const hw = opts.hw ?? 8;
  return new NetworkTrainer(
    {
      model: modelConfigSchema.parse({
        arch: opts.arch ?? 'resnet20',
        width: opts.width ?? 0.25,
        bn_position: opts.bn ?? 'after_relu',
      }),
      rule: ruleConfigSchema.parse(opts.rule ?? { name: 'bp' }),
      optimizer: optimizerConfigSchema.parse(opts.optimizer ?? {}),
      train: trainConfigSchema.parse({ seed: opts.seed ?? 0 }),
    },
    syntheticInfo(hw),
  );
}

/** A rule over some layers alone (their input shapes set), without an engine. */
export function ruleFor(name: string, layers: FeedbackLayer[], extra: object = {}) {
  return createRule({
    cfg: ruleConfigSchema.parse({ name, ...extra }),
    layers,
    seed: 3,
    inputShape: [],
    probeNetwork: () => new Map(),
  });
}
