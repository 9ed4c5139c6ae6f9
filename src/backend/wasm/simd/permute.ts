/**
 * Fast transposes on the wasm backend with permute.wat (tfjs's wasm Transpose copies
 * one element at a time: 0.3–1.3 GB/s here on ResNet-20 activations, ours 4–20). After dropping size-1 axes and merging axes
 * that stay adjacent, a permutation that is one of
 *   [1, 0]      [A, C] → [C, A]            (e.g. NHWC → C·NHW, perm [3, 0, 1, 2])
 *   [2, 1, 0]   [A, B, C] → [C, B, A]      (e.g. NHWC → CHWN, perm [3, 1, 2, 0])
 *   [1, 0, 2]   [A, B, R] → [B, A, R]      (e.g. NHWC → HWNC, perm [1, 2, 0, 3])
 * runs as our kernel; anything else (or another backend, dtype) is tf.transpose.
 */
import * as tf from '@tensorflow/tfjs-core';
import { simdKernel } from './kernel.js';

export type PermutePlan =
  | { kind: 'transpose'; a: number; b: number; c: number } // [A, B, C] → [C, B, A]
  | { kind: 'swapRows'; a: number; b: number; r: number }; // [A, B, R] → [B, A, R]

/** Which of our kernels computes transpose(x of `shape`, perm), or null. */
export function permutePlan(shape: readonly number[], perm: readonly number[]): PermutePlan | null {
  // Size-1 axes move nothing: drop them and renumber the rest.
  const kept = shape.map((_, i) => i).filter((i) => shape[i] !== 1);
  const dims = kept.map((i) => shape[i]);
  const p = perm.filter((i) => shape[i] !== 1).map((i) => kept.indexOf(i));
  // Runs of consecutive input axes in the output order move as one axis.
  const groups: number[][] = [];
  for (const ax of p) {
    const last = groups.at(-1);
    if (last && (last.at(-1) as number) + 1 === ax) last.push(ax);
    else groups.push([ax]);
  }
  const byInput = [...groups].sort((g, h) => g[0] - h[0]);
  const size = byInput.map((g) => g.reduce((s, ax) => s * dims[ax], 1));
  const q = groups.map((g) => byInput.indexOf(g)).join(',');
  if (q === '1,0') return { kind: 'transpose', a: size[0], b: 1, c: size[1] };
  if (q === '2,1,0') return { kind: 'transpose', a: size[0], b: size[1], c: size[2] };
  if (q === '1,0,2') return { kind: 'swapRows', a: size[0], b: size[1], r: size[2] };
  return null;
}

/** inputs x; attrs perm → x transposed (only for perms with a plan). */
const permuteKernel = simdKernel<'x', { perm: number[] }>(
  'WtrainPermute',
  ({ backend, mods, at, output }, { x }, { perm }) => {
    const plan = permutePlan(x.shape, perm) as PermutePlan;
    const out = output(perm.map((i) => x.shape[i]));
    if (plan.kind === 'swapRows') {
      mods.permute.swap_rows(at(x), at(out), plan.a, plan.b, plan.r);
      return out;
    }
    const buf = backend.wasm._malloc(mods.permute.scratch_bytes.value);
    try {
      mods.permute.transpose_cba(at(x), at(out), plan.a, plan.b, plan.c, buf);
    } finally {
      backend.wasm._free(buf);
    }
    return out;
  },
);

/** tf.transpose(x, perm), through our kernel where it applies. */
export function fastTranspose<T extends tf.Tensor>(x: T, perm: number[]): T {
  const out = permutePlan(x.shape, perm) ? permuteKernel.run({ x }, { perm }) : null;
  return (out?.[0] as T | undefined) ?? tf.transpose(x, perm);
}
