/**
 * Synthetic data for tests and benchmarks: deterministic pseudo-random pixels and
 * labels with CIFAR-10's normalisation, no files needed.
 */
import type { Batch, DatasetInfo } from './types.js';

const CIFAR_MEAN = [0.4914, 0.4822, 0.4465];
const CIFAR_STD = [0.247, 0.2435, 0.2616];

export function syntheticInfo(size: number, channels = 3, numClasses = 10): DatasetInfo {
  return {
    source: 'synthetic',
    numClasses,
    classNames: Array.from({ length: numClasses }, (_, i) => `class${i}`),
    height: size,
    width: size,
    channels,
    mean: CIFAR_MEAN.slice(0, channels),
    std: CIFAR_STD.slice(0, channels),
    trainSize: 0,
    valSize: 0,
  };
}

/** A batch of pseudo-random pixels (xorshift) and labels, deterministic in `seed`. */
export function syntheticBatch(n: number, size: number, seed: number, channels = 3, numClasses = 10): Batch {
  const x = new Uint8Array(n * size * size * channels);
  let s = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < x.length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    x[i] = s & 255;
  }
  const y = Int32Array.from(
    { length: n },
    (_, i) => (((i * 7 + seed) % numClasses) + numClasses) % numClasses,
  );
  return { x, y, n, height: size, width: size, channels };
}
