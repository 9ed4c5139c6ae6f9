/**
 * One training step on the cpu backend and on webgpu from the same initial state and
 * batch: every tensor's change (the step's update: gradient, momentum, decay, BN
 * statistics, KP's B) must agree within max |a−b| ≤ tol · max |cpu|.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { AnyRule, NetConfig } from './options.js';
import { buildTrainer, syntheticBatch } from './trainer.js';

export interface NumericsResult {
  net: string;
  rule: AnyRule;
  tensors: number;
  worstTensor: string;
  worstRelErr: number;
  tolerance: number;
  ok: boolean;
  /** The worst tensors, worst first, with their error (for finding the kernel at fault). */
  worst: Array<{ tensor: string; relErr: number }>;
}

/** Every tensor's change over one training step at lr 1 on `backend`, from the same initial state and batch. */
export async function stepDeltas(
  backend: string,
  net: NetConfig,
  rule: AnyRule,
  seed = 3,
): Promise<Map<string, Float32Array>> {
  await tf.setBackend(backend);
  const trainer = await buildTrainer(net, rule);
  try {
    const read = async (tensors: Record<string, tf.Tensor>) => {
      const out = new Map<string, Float32Array>();
      for (const [k, t] of Object.entries(tensors)) {
        out.set(k, Float32Array.from((await t.data()) as Float32Array));
        t.dispose();
      }
      return out;
    };
    const before = await read(trainer.getState().tensors);
    // lr 1: the update is large next to the weights, so fp32 rounding of W − ηd hides little of it.
    trainer.trainStep(syntheticBatch(net.batch, net.size, seed), 1);
    const after = await read(trainer.getState().tensors);
    const deltas = new Map<string, Float32Array>();
    for (const [k, a] of after) {
      const b = before.get(k);
      deltas.set(k, b ? a.map((v, i) => v - b[i]) : a);
    }
    return deltas;
  } finally {
    trainer.dispose();
  }
}

export async function compareWithCpu(
  net: NetConfig,
  rule: AnyRule,
  seed = 3,
  tolerance = 1e-4,
): Promise<NumericsResult> {
  const ref = await stepDeltas('cpu', net, rule, seed);
  const got = await stepDeltas('webgpu', net, rule, seed);
  return compareDeltas(net, rule, ref, got, tolerance);
}

/** Max |a−b| / max |ref| per tensor; `ok` when the worst is within `tolerance`. */
export function compareDeltas(
  net: NetConfig,
  rule: AnyRule,
  ref: Map<string, Float32Array>,
  got: Map<string, Float32Array>,
  tolerance = 1e-4,
  top = 5,
): NumericsResult {
  const extra = [...got.keys()].filter((k) => !ref.has(k));
  if (extra.length > 0) throw new Error(`numerics: tensors only on webgpu: ${extra.join(', ')}`);
  const errs: Array<{ tensor: string; relErr: number }> = [];
  for (const [k, r] of ref) {
    const g = got.get(k);
    if (!g || g.length !== r.length) throw new Error(`numerics: tensor ${k} differs in presence or size`);
    let diff = 0;
    let scale = 0;
    for (let i = 0; i < r.length; i++) {
      diff = Math.max(diff, Math.abs(g[i] - r[i]));
      scale = Math.max(scale, Math.abs(r[i]));
    }
    // NaN counts as worst.
    errs.push({ tensor: k, relErr: Number.isNaN(diff) ? Number.POSITIVE_INFINITY : diff / (scale || 1) });
  }
  errs.sort((a, b) => b.relErr - a.relErr);
  const worst = errs[0] ?? { tensor: '', relErr: 0 };
  return {
    net: net.label,
    rule,
    tensors: ref.size,
    worstTensor: worst.tensor,
    worstRelErr: worst.relErr,
    tolerance,
    ok: worst.relErr <= tolerance,
    worst: errs.slice(0, top),
  };
}
