/**
 * Op `sgdUpdateMany` on webgpu: the SGD step of up to K parameters in one dispatch,
 * writing each parameter and its momentum buffer in place (raw_dispatch.ts), instead of
 * 2 dispatches and 2 new buffers per parameter (sgd.ts). A ResNet-18 step has 62
 * parameters: 124 dispatches become 13 or so. Dispatch count, not arithmetic, bounds
 * small steps on a GPU (~200 µs of host time each in tfjs + Dawn).
 *
 * Same arithmetic, in the same order, as sgd.ts (and src/train/optimizer.ts):
 *   g ← g + λ·p;  v ← μ·v + g;  p ← p − η·(g + μ·v)  (Nesterov)  or  p − η·v;  μ = 0: p − η·g
 *
 * Parameters are grouped by (weight decay, momentum or not); K = what the device's
 * storage-buffer limit allows (3 buffers per parameter with momentum, 2 without). A
 * parameter that shares its buffer gets its own copy first (raw_dispatch.ts), so every
 * step rounds the same way; only a dtype or size mismatch takes sgd.ts's path.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { SgdEntry, SgdUpdateManyFn } from '../ops/sgd_update.js';
import type { ProgramUniforms, WebGPUBackend } from './program.js';
import {
  ownBufferForInPlace,
  type RawBinding,
  type RawBufferDecl,
  rawShaderHeader,
  recordRawDispatch,
} from './raw_dispatch.js';
import { webgpuSgdUpdate } from './sgd.js';

type Mode = 'nesterov' | 'heavyBall' | 'plain';

const WORKGROUP = 256;
/** Grid-stride loop beyond this many workgroups. */
const MAX_WORKGROUPS = 4096;
/** Parameters per dispatch at most, whatever the device allows. */
const MAX_GROUP = 8;

function update(mode: Mode, k: number): string {
  const g = `let g = g${k}[j] + u.decay * p${k}[j];`;
  if (mode === 'plain') return `${g} p${k}[j] = p${k}[j] - u.lr * g;`;
  const v = `let v = u.mu * v${k}[j] + g; v${k}[j] = v;`;
  const p = mode === 'nesterov' ? `p${k}[j] - u.lr * (g + u.mu * v)` : `p${k}[j] - u.lr * v`;
  return `${g} ${v} p${k}[j] = ${p};`;
}

const shaders = new Map<string, string>();

/** WGSL for `count` parameters: bindings p0, [v0,] g0, p1, ..., then the uniforms (memoised). */
export function sgdManyShader(mode: Mode, count: number): string {
  const key = `${mode}/${count}`;
  let code = shaders.get(key);
  if (code === undefined) {
    code = buildShader(mode, count);
    shaders.set(key, code);
  }
  return code;
}

function buildShader(mode: Mode, count: number): string {
  const buffers: RawBufferDecl[] = [];
  const branches: string[] = [];
  for (let k = 0; k < count; k++) {
    buffers.push({ name: `p${k}`, write: true });
    if (mode !== 'plain') buffers.push({ name: `v${k}`, write: true });
    buffers.push({ name: `g${k}` });
    const start = k === 0 ? '0' : `u.end${k - 1}`;
    branches.push(`if (i < u.end${k}) { let j = i - ${start}; ${update(mode, k)} }`);
  }
  const ends = Array.from({ length: count }, (_, k) => `end${k} : i32,`).join(' ');
  return `${rawShaderHeader(buffers, `lr : f32, mu : f32, decay : f32, total : i32, ${ends}`)}
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid : vec3<u32>, @builtin(num_workgroups) groups : vec3<u32>) {
  let stride = i32(groups.x) * ${WORKGROUP};
  for (var i = i32(gid.x); i < u.total; i = i + stride) {
    ${branches.join(' else ')}
  }
}`;
}

function groupSize(backend: WebGPUBackend, mode: Mode): number {
  const perParam = mode === 'plain' ? 2 : 3;
  return Math.max(
    1,
    Math.min(MAX_GROUP, Math.floor(backend.device.limits.maxStorageBuffersPerShaderStage / perParam)),
  );
}

function dispatchGroup(
  backend: WebGPUBackend,
  mode: Mode,
  group: SgdEntry[],
  o: { lr: number; momentum: number },
): void {
  const bindings: RawBinding[] = [];
  const ends: number[] = [];
  let total = 0;
  for (const e of group) {
    bindings.push({ tensor: e.param, write: true });
    if (mode !== 'plain') bindings.push({ tensor: e.velocity as tf.Variable, write: true });
    bindings.push({ tensor: e.grad, write: false });
    total += e.param.size;
    ends.push(total);
  }
  const uniforms: ProgramUniforms = [
    { type: 'float32', data: [o.lr] },
    { type: 'float32', data: [o.momentum] },
    { type: 'float32', data: [group[0].weightDecay] },
    { type: 'int32', data: [total] },
    ...ends.map((end) => ({ type: 'int32' as const, data: [end] })),
  ];
  const workgroups = Math.min(MAX_WORKGROUPS, Math.ceil(total / WORKGROUP));
  recordRawDispatch(
    backend,
    'WtrainSgdMany',
    sgdManyShader(mode, group.length),
    bindings,
    uniforms,
    workgroups,
  );
}

export function makeWebgpuSgdUpdateMany(backend: () => WebGPUBackend): SgdUpdateManyFn {
  return (entries, o) => {
    const b = backend();
    const withMomentum = o.momentum > 0;
    const mode: Mode = !withMomentum ? 'plain' : o.nesterov ? 'nesterov' : 'heavyBall';
    const K = groupSize(b, mode);
    const all = entries.flatMap((e) => [e.param, e.grad, ...(e.velocity ? [e.velocity] : [])]);
    const open = new Map<number, SgdEntry[]>(); // weight decay → group being filled
    for (const e of entries) {
      const inPlace =
        e.param.size > 0 &&
        e.grad.dtype === 'float32' &&
        e.grad.size === e.param.size &&
        ownBufferForInPlace(b, e.param, all) &&
        (!withMomentum || (e.velocity !== null && ownBufferForInPlace(b, e.velocity, all)));
      if (!inPlace) {
        webgpuSgdUpdate(e.param, e.grad, e.velocity, { ...o, weightDecay: e.weightDecay });
        continue;
      }
      const group = open.get(e.weightDecay) ?? [];
      group.push(e);
      open.set(e.weightDecay, group);
      if (group.length === K) {
        dispatchGroup(b, mode, group, o);
        open.delete(e.weightDecay);
      }
    }
    for (const group of open.values()) dispatchGroup(b, mode, group, o);
  };
}
