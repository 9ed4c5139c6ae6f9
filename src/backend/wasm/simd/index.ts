/**
 * Our hand-written SIMD WebAssembly modules (batch_norm.wat, conv2d.wat,
 * max_pool_grad.wat, permute.wat, relu.wat, sgd.wat, sign.wat), run inside the
 * tfjs wasm backend's own heap: each module imports that backend's
 * `WebAssembly.Memory`, so its functions take tensors' heap byte offsets directly and
 * no data is copied in or out. The memory object stays the same when the heap grows;
 * only JS views of it (ArrayBuffers) are detached, so views are made from
 * `memory.buffer` after the last allocation (see `heapF32`/`heapF64`).
 *
 * Modules are compiled once per thread and instantiated once per backend instance,
 * on first use (registration runs before the backend exists, and a worker thread has
 * its own tfjs and wasm backend). Where instantiation fails (a tfjs build whose
 * memory is shared, a runtime without SIMD) `simdModules` returns null and callers
 * fall back to stock tfjs ops.
 */
import * as tf from '@tensorflow/tfjs-core';
import { compiledModule, convModule } from './modules.js';

/** batch_norm.wat's exports (pointers are heap byte offsets; see the .wat for the maths). */
export interface BatchNormExports {
  /** relu: 1 reads x as ReLU(x) (the fused after_relu unit), 0 as is; the same below. */
  bn_stats(x: number, m: number, c: number, acc: number, relu: number): void;
  bn_apply(
    x: number,
    y: number,
    m: number,
    c: number,
    mean: number,
    scale: number,
    beta: number,
    relu: number,
  ): void;
  bn_grad_sums(dy: number, x: number, m: number, c: number, mean: number, acc: number, relu: number): void;
  /** relu: 1 also zeroes dx where x ≤ 0 (dx goes on through the ReLU). */
  bn_grad_apply(
    dy: number,
    x: number,
    dx: number,
    m: number,
    c: number,
    k: number,
    mean: number,
    cc: number,
    a: number,
    relu: number,
  ): void;
}

/** (input, other operand, result, n, h, w, c, ho, wo, o, kh, kw, stride) of a convolution kernel. */
type ConvArgs = [
  a: number,
  b: number,
  out: number,
  n: number,
  h: number,
  w: number,
  c: number,
  ho: number,
  wo: number,
  o: number,
  kh: number,
  kw: number,
  s: number,
];
/** …and the symmetric padding p, which the gradient kernels handle in place. */
type ConvGradArgs = [...ConvArgs, p: number];

/** conv2d.wat's exports (sizes in elements, pointers heap byte offsets). */
export interface ConvExports {
  /** y = valid conv(x, w), stride s; w packed by filter_pack. */
  conv2d_valid(...args: ConvArgs): void;
  /** dst ([n, hd, wd, c], zeros) with src placed at rows top + ih·s, columns left + iw·s. */
  pad_dilate(
    src: number,
    dst: number,
    n: number,
    h: number,
    w: number,
    c: number,
    s: number,
    top: number,
    left: number,
    hd: number,
    wd: number,
  ): void;
  /** δ_in of a strided conv (s > 1), added pixel by pixel; r = Fᵀ per tap, packed (swap, no flip). */
  conv2d_input_grad_strided(...args: ConvGradArgs): void;
  /** dst[t, o, c] = src[flip ? taps−1−t : t, c, o]: channels swapped (and rotated 180° for flip = 1). */
  filter_swap_io(src: number, dst: number, taps: number, c: number, o: number, flip: number): void;
  /**
   * dst [g/8, rows, cols, k, 8] from G[t, k, g] over the rows×cols taps at (top, left) of
   * src ([kh, kw, c, o]), rotated 180° within them for flip = 1, its channels swapped
   * (G[t, o, c]) for swap = 1; G's last axis a multiple of 8.
   */
  filter_pack(
    src: number,
    dst: number,
    kw: number,
    c: number,
    o: number,
    flip: number,
    swap: number,
    top: number,
    left: number,
    rows: number,
    cols: number,
  ): void;
  /** dW of conv(x, ·) with stride s and symmetric padding p, given dy; `chunk` rows of n·ho at a time. */
  conv2d_filter_grad(...args: [...ConvGradArgs, chunk: number]): void;
  /** Winograd F(2x2, 3x3): U [16, o/8, c, 8] from a 3x3 filter packed by filter_pack. */
  filter_wino(src: number, dst: number, c: number, o: number): void;
  /** y = valid 3x3 stride-1 conv(x [n, hp, wp, c], U) by Winograd; tb tiles per block in `scratch`. */
  conv2d_wino(
    x: number,
    u: number,
    y: number,
    n: number,
    hp: number,
    wp: number,
    c: number,
    ho: number,
    wo: number,
    o: number,
    tb: number,
    scratch: number,
  ): void;
  /** The same dW from chunks packed into `scratch`; taps [lo, lo + kc)² only (kc = 0: all). */
  conv2d_filter_grad_packed(
    ...args: [...ConvGradArgs, chunk: number, scratch: number, lo: number, kc: number]
  ): void;
}

/** sgd.wat's exports: one SGD step (see the .wat; v, vOut unused when plain = 1). */
export interface SgdExports {
  sgd_step(
    p: number,
    g: number,
    v: number,
    pOut: number,
    vOut: number,
    n: number,
    lr: number,
    mu: number,
    decay: number,
    nesterov: number,
    plain: number,
  ): void;
  /** out = decay·b + eta·(g / pairs[t]) over `taps` blocks of `block` weights. */
  mirror_update(
    b: number,
    g: number,
    pairs: number,
    out: number,
    taps: number,
    block: number,
    decay: number,
    eta: number,
  ): void;
}

/** sign.wat's exports: out = sign(w)·m, or sign(w)·mag elementwise. */
export interface SignExports {
  sign_scale(w: number, out: number, n: number, m: number): void;
  sign_times(w: number, mag: number, out: number, n: number): void;
}

/** relu.wat's exports: ReLU's backward; WM's centred relu (see the .wat). */
export interface ReluExports {
  relu_grad(dy: number, y: number, dx: number, n: number): void;
  relu_centre(z: number, out: number, rows: number, feats: number): void;
}

/** max_pool_grad.wat's exports: max pooling's backward (k×k window, stride s, top/left padding p). */
export interface MaxPoolGradExports {
  max_pool_grad(
    x: number,
    y: number,
    dy: number,
    dx: number,
    n: number,
    h: number,
    w: number,
    c: number,
    ho: number,
    wo: number,
    k: number,
    s: number,
    p: number,
  ): void;
}

/** permute.wat's exports. */
export interface PermuteExports {
  /** Bytes of scratch transpose_cba's `buf` needs. */
  scratch_bytes: WebAssembly.Global;
  transpose_cba(src: number, dst: number, a: number, b: number, c: number, buf: number): void;
  swap_rows(src: number, dst: number, a: number, b: number, r: number): void;
}

export interface SimdModules {
  /** The backend's heap (the tfjs module's memory, imported by ours). */
  memory: WebAssembly.Memory;
  batchNorm: BatchNormExports;
  conv: ConvExports;
  permute: PermuteExports;
  sgd: SgdExports;
  sign: SignExports;
  relu: ReluExports;
  maxPoolGrad: MaxPoolGradExports;
}

/** The parts of tfjs-backend-wasm's BackendWasm we use (not in its public types). */
export interface WasmBackend {
  wasm: {
    asm?: { memory?: WebAssembly.Memory };
    HEAPU8: Uint8Array;
    _malloc(bytes: number): number;
    _free(ptr: number): void;
  };
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: 'float32'): tf.TensorInfo;
  disposeData(dataId: object, force?: boolean): boolean;
}

const instances = new WeakMap<object, SimdModules | null>();

function instantiate(backend: WasmBackend): SimdModules | null {
  const memory = backend.wasm?.asm?.memory;
  if (!(memory instanceof WebAssembly.Memory) || memory.buffer !== backend.wasm.HEAPU8.buffer) return null;
  // A shared (threaded) memory does not match our modules' non-shared import.
  if (typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer) return null;
  try {
    const imports = { env: { memory } };
    const instance = (mod: WebAssembly.Module | null) =>
      new WebAssembly.Instance(mod as WebAssembly.Module, imports);
    const exportsOf = (name: string) => instance(compiledModule(name)).exports;
    return {
      memory,
      batchNorm: exportsOf('batch_norm') as unknown as BatchNormExports,
      conv: instance(convModule()).exports as unknown as ConvExports,
      permute: exportsOf('permute') as unknown as PermuteExports,
      sgd: exportsOf('sgd') as unknown as SgdExports,
      sign: exportsOf('sign') as unknown as SignExports,
      relu: exportsOf('relu') as unknown as ReluExports,
      maxPoolGrad: exportsOf('max_pool_grad') as unknown as MaxPoolGradExports,
    };
  } catch {
    return null;
  }
}

/** Our modules bound to `backend`'s heap (default: the active backend when it is wasm), or null. */
export function simdModules(backend?: object): SimdModules | null {
  const b = backend ?? (tf.getBackend() === 'wasm' ? tf.backend() : undefined);
  if (!b) return null;
  let mods = instances.get(b);
  if (mods === undefined) {
    mods = instantiate(b as WasmBackend);
    instances.set(b, mods);
  }
  return mods;
}

/** Heap byte offset of a tensor's data on the wasm backend. */
export function heapOffset(backend: WasmBackend, t: tf.TensorInfo): number {
  const entry = backend.dataIdMap.get(t.dataId);
  if (!entry) throw new Error('heapOffset: tensor is not on this wasm backend');
  return entry.memoryOffset;
}

/** A fresh f32 view of `count` floats at byte offset `at` (valid until the next allocation). */
export function heapF32(mods: SimdModules, at: number, count: number): Float32Array {
  return new Float32Array(mods.memory.buffer, at, count);
}

/** A fresh f64 view of `count` doubles at byte offset `at` (8-aligned; valid until the next allocation). */
export function heapF64(mods: SimdModules, at: number, count: number): Float64Array {
  return new Float64Array(mods.memory.buffer, at, count);
}
