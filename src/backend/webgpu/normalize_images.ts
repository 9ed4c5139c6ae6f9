/**
 * Op `normalizeImages` on webgpu: the uint8 batch travels as int32 words (4 bytes each,
 * no host conversion) and one dispatch unpacks byte i of word i/4 (WebGPU is
 * little-endian) and writes x·scale_c − shift_c. Up to 4 channels; more take the host path.
 */
import * as tf from '@tensorflow/tfjs-core';
import { hostNormalizeImages, type NormalizeImagesFn } from '../ops/normalize_images.js';
import { ElementwiseProgram, runElementwise } from './elementwise.js';
import { type KernelArgs, registerWebgpuKernel } from './program.js';

export const NORMALIZE_IMAGES_KERNEL = 'WtrainNormalizeImages';
const MAX_CHANNELS = 4;

const UNIFORMS =
  'channels : i32, s0 : f32, s1 : f32, s2 : f32, s3 : f32, h0 : f32, h1 : f32, h2 : f32, h3 : f32,';
const PRELUDE = `
  let c = index % uniforms.channels;
  let s = select(select(select(uniforms.s0, uniforms.s1, c == 1), uniforms.s2, c == 2), uniforms.s3, c == 3);
  let h = select(select(select(uniforms.h0, uniforms.h1, c == 1), uniforms.h2, c == 2), uniforms.h3, c == 3);
  let v = (bitcast<u32>(words[index / 4]) >> (u32(index % 4) * 8u)) & 255u;`;

interface Attrs {
  shape: number[];
  scale: number[];
  shift: number[];
}

function normalizeImagesKernel({ inputs, backend, attrs }: KernelArgs<'words', Attrs>): tf.TensorInfo {
  const size = tf.util.sizeFromShape(attrs.shape);
  const program = new ElementwiseProgram(
    'wtrainNormalizeImages',
    ['words'],
    'f32(v) * s - h',
    size,
    UNIFORMS,
    PRELUDE,
  );
  const pad = (v: number[]) => [...v, 0, 0, 0, 0].slice(0, MAX_CHANNELS);
  const scale = pad(attrs.scale);
  const shift = pad(attrs.shift);
  return runElementwise(backend, program, [inputs.words], attrs.shape, [
    { type: 'int32', data: [attrs.shape[3]] },
    ...scale.map((x) => ({ type: 'float32' as const, data: [x] })),
    ...shift.map((x) => ({ type: 'float32' as const, data: [x] })),
  ]);
}

export function registerNormalizeImagesKernel(): void {
  registerWebgpuKernel(NORMALIZE_IMAGES_KERNEL, normalizeImagesKernel);
}

/** The bytes as int32 words: a view when aligned and a multiple of 4 long, else a padded copy. */
function asWords(bytes: Uint8Array): Int32Array {
  if (bytes.byteOffset % 4 === 0 && bytes.length % 4 === 0) {
    return new Int32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
  }
  const copy = new Uint8Array(Math.ceil(bytes.length / 4) * 4);
  copy.set(bytes);
  return new Int32Array(copy.buffer);
}

export const webgpuNormalizeImages: NormalizeImagesFn = (bytes, shape, scale, shift) => {
  if (shape[3] > MAX_CHANNELS || bytes.length === 0) return hostNormalizeImages(bytes, shape, scale, shift);
  const words = tf.tensor1d(asWords(bytes), 'int32');
  try {
    return tf.engine().runKernel(NORMALIZE_IMAGES_KERNEL, { words }, {
      shape,
      scale: [...scale],
      shift: [...shift],
    } as unknown as tf.NamedAttrMap) as tf.Tensor4D;
  } finally {
    words.dispose();
  }
};
