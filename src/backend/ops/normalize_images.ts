/**
 * A batch of uint8 NHWC images → float32 (x/255 − mean_c)/std_c, written as
 * x·scale_c − shift_c with scale_c = 1/(255·std_c), shift_c = mean_c/std_c. The generic
 * version converts on the host; webgpu uploads the bytes (a quarter of the floats'
 * size) and converts on the device, which takes the conversion (~10 ns per value in
 * JS: 55 ms for a 128×112×112×3 batch) off the host's part of a training step.
 */
import * as tf from '@tensorflow/tfjs-core';
import { opImplFor } from './registry.js';

declare module './registry.js' {
  interface OpImpls {
    normalizeImages: NormalizeImagesFn;
  }
}

export type NormalizeImagesFn = (
  bytes: Uint8Array,
  shape: [number, number, number, number],
  scale: readonly number[],
  shift: readonly number[],
) => tf.Tensor4D;

/** The float values, one pass over the bytes (3 channels unrolled). */
export function normalizeOnHost(
  bytes: Uint8Array,
  channels: number,
  scale: readonly number[],
  shift: readonly number[],
): Float32Array {
  const out = new Float32Array(bytes.length);
  if (channels === 3) {
    const [s0, s1, s2] = scale;
    const [h0, h1, h2] = shift;
    for (let i = 0; i + 2 < bytes.length; i += 3) {
      out[i] = bytes[i] * s0 - h0;
      out[i + 1] = bytes[i + 1] * s1 - h1;
      out[i + 2] = bytes[i + 2] * s2 - h2;
    }
    return out;
  }
  const s = Float64Array.from(scale);
  const h = Float64Array.from(shift);
  for (let i = 0, c = 0; i < bytes.length; i++) {
    out[i] = bytes[i] * s[c] - h[c];
    if (++c === channels) c = 0;
  }
  return out;
}

export const hostNormalizeImages: NormalizeImagesFn = (bytes, shape, scale, shift) =>
  tf.tensor4d(normalizeOnHost(bytes, shape[3], scale, shift), shape);

export const normalizeImages: NormalizeImagesFn = (bytes, shape, scale, shift) => {
  if (bytes.length !== shape.reduce((a, b) => a * b, 1)) {
    throw new Error(`normalizeImages: ${bytes.length} bytes for shape [${shape.join(', ')}]`);
  }
  if (scale.length !== shape[3] || shift.length !== shape[3]) {
    throw new Error(
      `normalizeImages: ${shape[3]} channels but ${scale.length} scales and ${shift.length} shifts (data mean/std per channel)`,
    );
  }
  return (opImplFor('normalizeImages') ?? hostNormalizeImages)(bytes, shape, scale, shift);
};
