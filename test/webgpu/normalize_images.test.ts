/**
 * The input batch's normalisation: the host loop equals (x/255 − mean)/std for every
 * channel count, and the webgpu kernel (bytes uploaded as int32 words, unpacked on the
 * device) equals the host loop, for lengths that are and are not a multiple of 4, an
 * unaligned view, 1/3/4 channels, with the kernel actually run and no tensor left.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { normalizeImages, normalizeOnHost } from '../../src/backend/ops/normalize_images.js';
import { NORMALIZE_IMAGES_KERNEL } from '../../src/backend/webgpu/normalize_images.js';
import { useWebgpu } from './gpu.js';

type Shape4 = [number, number, number, number];
const MEAN = [0.49, 0.48, 0.45, 0.5, 0.3];
const STD = [0.25, 0.24, 0.26, 0.2, 0.1];
const params = (c: number) => ({
  scale: STD.slice(0, c).map((s) => 1 / (255 * s)),
  shift: MEAN.slice(0, c).map((m, i) => m / STD[i]),
});

/** n bytes at `offset` into a buffer with `tail` more bytes after them (a view, as loaders hand out). */
function bytesOf(n: number, seed: number, offset = 0, tail = 0): Uint8Array {
  const buf = new Uint8Array(offset + n + tail);
  for (let i = 0; i < buf.length; i++) buf[i] = (i * 2654435761 + seed * 97) >>> 24;
  buf[offset] = 0;
  buf[offset + n - 1] = 255;
  return buf.subarray(offset, offset + n);
}

test('normalizeOnHost: (x/255 − mean_c)/std_c for 1, 2, 3 and 5 channels', () => {
  for (const c of [1, 2, 3, 5]) {
    const x = bytesOf(c * 7, c);
    const { scale, shift } = params(c);
    const got = normalizeOnHost(x, c, scale, shift);
    for (let i = 0; i < x.length; i++) {
      const want = (x[i] / 255 - MEAN[i % c]) / STD[i % c];
      assert.ok(
        Math.abs(got[i] - want) <= 1e-5 * Math.max(1, Math.abs(want)),
        `c=${c} i=${i}: ${got[i]} vs ${want}`,
      );
    }
  }
});

test('normalizeImages on webgpu = the host loop (bytes as words, unpacked on the device)', async (t) => {
  if (!(await useWebgpu(t))) return;
  const cases: Array<{ shape: Shape4; offset: number; tail?: number; why: string }> = [
    { shape: [2, 5, 7, 3], offset: 0, why: '210 bytes: not a multiple of 4' },
    { shape: [4, 4, 4, 1], offset: 0, why: 'aligned, one channel (a view, no copy)' },
    { shape: [4, 2, 2, 3], offset: 8, tail: 12, why: 'aligned view inside a larger buffer' },
    { shape: [2, 3, 3, 3], offset: 1, why: 'unaligned view' },
    { shape: [1, 2, 2, 4], offset: 0, why: 'four channels' },
  ];
  for (const c of cases) {
    const size = c.shape.reduce((a, b) => a * b);
    const x = bytesOf(size, size, c.offset, c.tail);
    const { scale, shift } = params(c.shape[3]);
    const want = normalizeOnHost(x, c.shape[3], scale, shift);
    const before = tf.memory().numTensors;
    let out: tf.Tensor | undefined;
    const { kernelNames } = await tf.profile(() => {
      out = normalizeImages(x, c.shape, scale, shift);
      return out;
    });
    const y = out as tf.Tensor;
    assert.deepEqual(y.shape, c.shape, c.why);
    const got = (await y.data()) as Float32Array;
    y.dispose();
    assert.equal(tf.memory().numTensors, before, `${c.why}: tensors leaked`);
    assert.ok(kernelNames.includes(NORMALIZE_IMAGES_KERNEL), `${c.why}: ran ${kernelNames.join(', ')}`);
    let worst = 0;
    for (let i = 0; i < size; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
    // x·scale − shift in f32 on the device, in f64 then rounded on the host: an ulp or two.
    assert.ok(worst <= 1e-6, `${c.why}: max |webgpu − host| ${worst}`);
  }
});

test('normalizeImages: a byte count or a mean/std count that does not match the shape is an error', () => {
  assert.throws(
    () => normalizeImages(new Uint8Array(10), [1, 2, 2, 3], [1, 1, 1], [0, 0, 0]),
    /10 bytes for shape/,
  );
  assert.throws(() => normalizeImages(new Uint8Array(12), [1, 2, 2, 3], [1], [0]), /3 channels but 1 scales/);
});
