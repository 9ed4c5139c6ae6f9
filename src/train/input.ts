/** uint8 NHWC batches → normalised float tensors, in one pass over the bytes. */
import * as tf from '@tensorflow/tfjs-core';
import type { Batch, DatasetInfo } from '../data/types.js';

export function batchToTensors(
  batch: Batch,
  info: Pick<DatasetInfo, 'mean' | 'std'>,
): { x: tf.Tensor4D; y: tf.Tensor1D } {
  const { n, height, width, channels } = batch;
  const scale = info.std.map((s) => 1 / (255 * s));
  const shift = info.mean.map((m, c) => m / info.std[c]);
  const out = new Float32Array(batch.x.length);
  for (let i = 0, c = 0; i < out.length; i++) {
    out[i] = batch.x[i] * scale[c] - shift[c];
    if (++c === channels) c = 0;
  }
  return {
    x: tf.tensor4d(out, [n, height, width, channels]),
    y: tf.tensor1d(batch.y, 'int32'),
  };
}
