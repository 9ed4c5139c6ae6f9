/** sign(W) ⊙ M on the wasm backend in one pass (sign.wat); see ops/sign_times.ts. */
import * as tf from '@tensorflow/tfjs-core';
import { type SignTimesFn, stockSignTimes } from '../../ops/sign_times.js';
import { simdKernel } from './kernel.js';

/** inputs w[, mag]; attrs m (used without mag) → sign(w)·(mag or m). */
const signTimesKernel = simdKernel<'w' | 'mag', { m: number }>(
  'WtrainSignTimes',
  ({ mods, at, output }, { w, mag }, { m }) => {
    const out = output(w.shape);
    const n = tf.util.sizeFromShape(w.shape);
    if (mag) mods.sign.sign_times(at(w), at(mag), at(out), n);
    else mods.sign.sign_scale(at(w), at(out), n, m);
    return out;
  },
);

export const wasmSignTimes: SignTimesFn = (w, magnitude) => {
  const out =
    typeof magnitude === 'number'
      ? signTimesKernel.run({ w }, { m: magnitude })
      : magnitude.size === w.size
        ? signTimesKernel.run({ w, mag: magnitude }, { m: 0 })
        : null;
  return out?.[0] ?? stockSignTimes(w, magnitude);
};
