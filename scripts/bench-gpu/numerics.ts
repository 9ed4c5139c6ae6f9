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
}

async function stepDeltas(
  backend: string,
  net: NetConfig,
  rule: AnyRule,
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
    trainer.trainStep(syntheticBatch(net.batch, net.size, 3), 1);
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
  tolerance = 1e-4,
): Promise<NumericsResult> {
  const ref = await stepDeltas('cpu', net, rule);
  const got = await stepDeltas('webgpu', net, rule);
  let worstTensor = '';
  let worstRelErr = 0;
  const extra = [...got.keys()].filter((k) => !ref.has(k));
  if (extra.length > 0) throw new Error(`numerics: tensors only on webgpu: ${extra.join(', ')}`);
  for (const [k, r] of ref) {
    const g = got.get(k);
    if (!g || g.length !== r.length) throw new Error(`numerics: tensor ${k} differs in presence or size`);
    let diff = 0;
    let scale = 0;
    for (let i = 0; i < r.length; i++) {
      diff = Math.max(diff, Math.abs(g[i] - r[i]));
      scale = Math.max(scale, Math.abs(r[i]));
    }
    const rel = diff / (scale || 1);
    if (rel >= worstRelErr) {
      worstRelErr = rel;
      worstTensor = k;
    }
  }
  return {
    net: net.label,
    rule,
    tensors: ref.size,
    worstTensor,
    worstRelErr,
    tolerance,
    ok: worstRelErr <= tolerance,
  };
}
