import type * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../src/backend/index.js';
import type { Batch, DatasetInfo } from '../src/data/types.js';
import { modelConfigSchema } from '../src/models/config.js';
import { ruleConfigSchema } from '../src/rules/config.js';
import { optimizerConfigSchema, trainConfigSchema } from '../src/train/config.js';
import { Engine } from '../src/train/trainer.js';

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

export function fakeInfo(hw: number, channels = 3, numClasses = 10): DatasetInfo {
  return {
    source: 'synthetic',
    numClasses,
    classNames: [],
    height: hw,
    width: hw,
    channels,
    mean: new Array(channels).fill(0.5),
    std: new Array(channels).fill(0.25),
    trainSize: 0,
    valSize: 0,
  };
}

/** A batch of deterministic pseudo-random pixels and labels. */
export function fakeBatch(n: number, hw: number, seed: number, channels = 3, numClasses = 10): Batch {
  const r = randomArray(n * hw * hw * channels + n, seed);
  const x = new Uint8Array(n * hw * hw * channels);
  for (let i = 0; i < x.length; i++) x[i] = Math.floor((r[i] + 1) * 127.99);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) y[i] = Math.floor((r[x.length + i] + 1) * 0.5 * numClasses) % numClasses;
  return { x, y, n, height: hw, width: hw, channels };
}

/** A small engine: config sections parsed from partial objects. */
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
): Engine {
  const hw = opts.hw ?? 8;
  return new Engine(
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
    fakeInfo(hw),
  );
}
