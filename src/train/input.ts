/** uint8 NHWC batches → normalised float tensors (src/backend/ops/normalize_images.ts). */
import * as tf from '@tensorflow/tfjs-core';
import { normalizeImages } from '../backend/ops/normalize_images.js';
import type { Batch, DatasetInfo } from '../data/types.js';

export function batchToTensors(
  batch: Batch,
  info: Pick<DatasetInfo, 'mean' | 'std'>,
): { x: tf.Tensor4D; y: tf.Tensor1D } {
  const { n, height, width, channels } = batch;
  const scale = info.std.map((s) => 1 / (255 * s));
  const shift = info.mean.map((m, c) => m / info.std[c]);
  return {
    x: normalizeImages(batch.x, [n, height, width, channels], scale, shift),
    y: tf.tensor1d(batch.y, 'int32'),
  };
}
