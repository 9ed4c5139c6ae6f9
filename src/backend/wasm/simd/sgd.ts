/**
 * One SGD step of a parameter on the wasm backend in one pass (sgd.wat), and WM's
 * mirror update of B (ops/mirror_update.ts) instead of
 * tfjs's ~7 elementwise ops; the same arithmetic, rounded the same way, as
 * stockSgdUpdate (src/backend/ops/sgd_update.ts, PyTorch's semantics). New tensors
 * are written and assigned (a variable may share its data with another tensor).
 */
import * as tf from '@tensorflow/tfjs-core';
import { type MirrorUpdateFn, stockMirrorUpdate } from '../../ops/mirror_update.js';
import { type SgdUpdateFn, stockSgdUpdate } from '../../ops/sgd_update.js';
import { simdKernel } from './kernel.js';

interface SgdAttrs {
  lr: number;
  mu: number;
  decay: number;
  nesterov: boolean;
}

/** inputs p, g[, v] → [p'] or [p', v']. */
const sgdKernel = simdKernel<'p' | 'g' | 'v', SgdAttrs>(
  'WtrainSgdStep',
  ({ mods, at, output }, { p, g, v }, a) => {
    const pOut = output(p.shape);
    const vOut = v ? output(p.shape) : null;
    const n = tf.util.sizeFromShape(p.shape);
    const [vIn, vTo] = v && vOut ? [at(v), at(vOut)] : [0, 0];
    mods.sgd.sgd_step(
      at(p),
      at(g),
      vIn,
      at(pOut),
      vTo,
      n,
      a.lr,
      a.mu,
      a.decay,
      a.nesterov ? 1 : 0,
      v ? 0 : 1,
    );
    return vOut ? [pOut, vOut] : [pOut];
  },
);

export const wasmSgdUpdate: SgdUpdateFn = (param, grad, velocity, o) => {
  const withVelocity = velocity !== null && o.momentum > 0;
  const attrs = { lr: o.lr, mu: o.momentum, decay: o.weightDecay, nesterov: o.nesterov };
  const out = sgdKernel.run(withVelocity ? { p: param, g: grad, v: velocity } : { p: param, g: grad }, attrs);
  if (!out) return stockSgdUpdate(param, grad, velocity, o);
  const [p, v] = out;
  param.assign(p);
  p.dispose();
  if (withVelocity) {
    velocity.assign(v);
    v.dispose();
  }
};

/** inputs b, g, pairs (one count per tap) → decay·b + eta·g/pairs. */
const mirrorKernel = simdKernel<'b' | 'g' | 'pairs', { decay: number; eta: number }>(
  'WtrainMirrorUpdate',
  ({ mods, at, output }, { b, g, pairs }, a) => {
    const out = output(b.shape);
    const taps = tf.util.sizeFromShape(pairs.shape);
    const block = tf.util.sizeFromShape(b.shape) / taps;
    mods.sgd.mirror_update(at(b), at(g), at(pairs), at(out), taps, block, a.decay, a.eta);
    return out;
  },
);

/** pairs: a number, or one count per leading tap of B (a conv's [kh, kw, 1, 1]). */
export const wasmMirrorUpdate: MirrorUpdateFn = (B, G, pairs, decay, eta) => {
  const p = typeof pairs === 'number' ? tf.scalar(pairs) : pairs;
  const taps = p.size;
  const perTap =
    p.rank === 0 || (p.shape.slice(2).every((d) => d === 1) && p.shape[0] * (p.shape[1] ?? 1) === taps);
  const out =
    perTap && B.size === G.size && B.size % taps === 0
      ? mirrorKernel.run({ b: B, g: G, pairs: p }, { decay, eta })?.[0]
      : null;
  if (p !== pairs) p.dispose();
  return out ?? stockMirrorUpdate(B, G, pairs, decay, eta);
};
