/**
 * Op `normalNoise` on the device: the stream of src/util/ziggurat.ts in WGSL, one
 * thread per Philox block of four samples (a grid-stride loop covers any size). WM's
 * mirror noise (tens of millions of samples per step at ImageNet sizes) and SS's brsf
 * magnitudes no longer cross the bus or cost the host its generation time.
 *
 * Every sample but the tail's (|x| > 3.44, drawn with WGSL's log) is one correctly
 * rounded float32 product and so bit-identical to the host's; the tail agrees to float
 * rounding, and a wedge test (WGSL's exp) that lands within rounding of its bound could
 * decide differently (none did in 16.8M samples, test/webgpu/normal_noise.test.ts).
 * The tables travel in a storage buffer made once per device.
 */
import * as tf from '@tensorflow/tfjs-core';
import { NOISE_KEY1, ZIGGURAT_LAYERS, ZIGGURAT_R, zigguratTables } from '../../util/ziggurat.js';
import type { NormalNoiseFn } from '../ops/normal_noise.js';
import { type KernelArgs, registerWebgpuKernel } from './program.js';
import { constantBuffer, newOutput, rawShaderHeader, recordRawDispatch } from './raw_dispatch.js';

export const THREADS = 256;
/** Enough workgroups to fill a large GPU; bigger tensors loop. */
export const MAX_WORKGROUPS = 16384;
const L = ZIGGURAT_LAYERS;

/** kn (as f32: every bound is below 2^24, so exact), wn, fn. */
function tables(): Float32Array<ArrayBuffer> {
  const t = new Float32Array(3 * L);
  t.set(zigguratTables.kn, 0);
  t.set(zigguratTables.wn, L);
  t.set(zigguratTables.fn, 2 * L);
  return t;
}

export const NORMAL_NOISE_SHADER = `${rawShaderHeader(
  [{ name: 'result', write: true }, { name: 'tables' }],
  'size : u32, k0 : u32, k1 : u32, scale : f32,',
)}
const R = ${ZIGGURAT_R};
const TWO_M24 = 5.9604644775390625e-8;

// high 32 bits of a·m from 16-bit partial products (WGSL has no mulhi)
fn mulhi(a : u32, m : u32) -> u32 {
  let al = a & 0xffffu;
  let ah = a >> 16u;
  let ml = m & 0xffffu;
  let mh = m >> 16u;
  let lh = al * mh;
  let hl = ah * ml;
  let mid = ((al * ml) >> 16u) + (lh & 0xffffu) + (hl & 0xffffu);
  return ah * mh + (lh >> 16u) + (hl >> 16u) + (mid >> 16u);
}

// Philox4x32-10 with key (u.k0, u.k1), as src/util/philox.ts
fn philox(counter : vec4<u32>) -> vec4<u32> {
  var c = counter;
  var k = vec2<u32>(u.k0, u.k1);
  for (var round = 0; round < 10; round = round + 1) {
    let hi0 = mulhi(c.x, 0xd2511f53u);
    let lo0 = c.x * 0xd2511f53u;
    let hi1 = mulhi(c.z, 0xcd9e8d57u);
    let lo1 = c.z * 0xcd9e8d57u;
    c = vec4<u32>(hi1 ^ c.y ^ k.x, lo1, hi0 ^ c.w ^ k.y, lo0);
    k = k + vec2<u32>(0x9e3779b9u, 0xbb67ae85u);
  }
  return c;
}

// the words a rejected sample n reads after its first: blocks (n, 0, 1, 0), (n, 1, 1, 0), ...
struct Stream { n : u32, blockIndex : u32, at : u32, block : vec4<u32> };

fn nextWord(s : ptr<function, Stream>) -> u32 {
  if ((*s).at == 4u) {
    (*s).block = philox(vec4<u32>((*s).n, (*s).blockIndex, 1u, 0u));
    (*s).blockIndex = (*s).blockIndex + 1u;
    (*s).at = 0u;
  }
  let w = (*s).block[(*s).at];
  (*s).at = (*s).at + 1u;
  return w;
}

fn unitOpen0(w : u32) -> f32 {
  return (f32(w >> 8u) + 1.0) * TWO_M24;
}

fn rejectedSample(first : u32, n : u32) -> f32 {
  var s = Stream(n, 0u, 4u, vec4<u32>());
  var w = first;
  loop {
    let h = bitcast<i32>(w) >> 8u;
    let iz = w & ${L - 1}u;
    let x = f32(h) * tables[${L}u + iz];
    if (f32(abs(h)) < tables[iz]) {
      return x;
    }
    if (iz == 0u) {
      loop {
        let t = -log(unitOpen0(nextWord(&s))) / R;
        let y = -log(unitOpen0(nextWord(&s)));
        if (y + y >= t * t) {
          return select(-R - t, R + t, h > 0);
        }
      }
    }
    let v = f32(nextWord(&s) >> 8u) * TWO_M24;
    let fHi = tables[${2 * L}u + iz - 1u];
    let fLo = tables[${2 * L}u + iz];
    if (fLo + v * (fHi - fLo) < exp(-0.5 * x * x)) {
      return x;
    }
    w = nextWord(&s);
  }
}

@compute @workgroup_size(${THREADS})
fn main(@builtin(global_invocation_id) id : vec3<u32>, @builtin(num_workgroups) groups : vec3<u32>) {
  let blocks = (u.size + 3u) / 4u;
  for (var g = id.x; g < blocks; g = g + groups.x * ${THREADS}u) {
    let words = philox(vec4<u32>(g, 0u, 0u, 0u));
    for (var lane = 0u; lane < 4u; lane = lane + 1u) {
      let n = g * 4u + lane;
      if (n < u.size) {
        let w = words[lane];
        let h = bitcast<i32>(w) >> 8u;
        let iz = w & ${L - 1}u;
        var z = f32(h) * tables[${L}u + iz];
        if (!(f32(abs(h)) < tables[iz])) {
          z = rejectedSample(w, n);
        }
        result[n] = z * u.scale;
      }
    }
  }
}`;

export const NORMAL_NOISE_KERNEL = 'WtrainNormalNoise';

function normalNoiseKernel({
  backend,
  attrs,
}: KernelArgs<never, { shape: number[]; seed: number; std: number }>): tf.TensorInfo {
  const out = newOutput(backend, attrs.shape);
  const size = tf.util.sizeFromShape(attrs.shape);
  recordRawDispatch(
    backend,
    NORMAL_NOISE_KERNEL,
    NORMAL_NOISE_SHADER,
    [{ tensor: out, write: true }, { buffer: constantBuffer(backend, 'ziggurat', tables) }],
    [
      { type: 'uint32', data: [size] },
      { type: 'uint32', data: [attrs.seed >>> 0] },
      { type: 'uint32', data: [NOISE_KEY1] },
      { type: 'float32', data: [attrs.std] },
    ],
    Math.min(MAX_WORKGROUPS, Math.ceil(size / 4 / THREADS)),
  );
  return out;
}

export function registerNormalNoiseKernel(): void {
  registerWebgpuKernel(NORMAL_NOISE_KERNEL, normalNoiseKernel);
}

export const webgpuNormalNoise: NormalNoiseFn = (shape, seed, std) =>
  tf.util.sizeFromShape(shape) === 0
    ? tf.zeros(shape)
    : (tf
        .engine()
        .runKernel(NORMAL_NOISE_KERNEL, {}, { shape, seed, std } as unknown as tf.NamedAttrMap) as tf.Tensor);
