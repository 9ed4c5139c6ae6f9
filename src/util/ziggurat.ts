/**
 * N(0, σ²) noise for WM's mirror steps (and SS's brsf magnitudes), the same numbers on
 * every backend: element n is a pure function of (seed, n), so the webgpu kernel
 * (src/backend/webgpu/normal_noise.ts) draws it on the device, thread by thread, and
 * cpu/wasm draw it here.
 *
 * The ziggurat method (Marsaglia & Tsang 2000), 128 layers, on 24-bit values: a 32-bit
 * word w gives the layer (its low 7 bits) and a signed 24-bit h (its high 24 bits, so
 * the two are independent: Doornik 2005's correlation is gone). A sample is
 * x = h·wn[layer], one correctly rounded float32 product, and so bit-identical on the
 * GPU, unless it falls in the tail (|x| > R, ~0.06 %), drawn with log, which agrees
 * to float rounding. ~97 % are accepted without further draws; the wedge test uses exp,
 * so a test that lands within rounding of its bound may go the other way on the GPU
 * (none in 16.8M samples in test/webgpu/normal_noise.test.ts).
 *
 * Words come from Philox4x32-10 (src/util/philox.ts) with key (seed, NOISE_KEY1):
 * element n's first word is word n mod 4 of block (⌊n/4⌋, 0, 0, 0); a rejected sample
 * reads on through its own blocks (n, 0, 1, 0), (n, 1, 1, 0), ... four words each.
 */
import { philox4x32 } from './philox.js';

export const ZIGGURAT_LAYERS = 128;
/** The second key word (π's fractional hex digits). */
export const NOISE_KEY1 = 0x243f6a88;
/** Start of the tail. */
export const ZIGGURAT_R = 3.442619855899;
const V = 9.91256303526217e-3; // area of each layer
const M = 8388608; // 2^23: |h| < M

/**
 * kn: acceptance bounds on |h|; wn: h → x scales (float32); fn: the density at the layer
 * edges (float32). Shared with the WGSL kernel, which embeds them bit for bit.
 */
export const zigguratTables = (() => {
  const kn = new Int32Array(ZIGGURAT_LAYERS);
  const wn = new Float32Array(ZIGGURAT_LAYERS);
  const fn = new Float32Array(ZIGGURAT_LAYERS);
  let dn = ZIGGURAT_R;
  let tn = dn;
  const q = V / Math.exp(-0.5 * dn * dn);
  kn[0] = Math.floor((dn / q) * M);
  kn[1] = 0;
  wn[0] = q / M;
  wn[ZIGGURAT_LAYERS - 1] = dn / M;
  fn[0] = 1;
  fn[ZIGGURAT_LAYERS - 1] = Math.exp(-0.5 * dn * dn);
  for (let i = ZIGGURAT_LAYERS - 2; i >= 1; i--) {
    dn = Math.sqrt(-2 * Math.log(V / dn + Math.exp(-0.5 * dn * dn)));
    kn[i + 1] = Math.floor((dn / tn) * M);
    tn = dn;
    fn[i] = Math.exp(-0.5 * dn * dn);
    wn[i] = dn / M;
  }
  return { kn, wn, fn };
})();

const { kn, wn, fn } = zigguratTables;
const TWO_M24 = 2 ** -24;

/** The words a rejected sample n reads after its first: its own Philox blocks in order. */
class ElementStream {
  private readonly block = new Uint32Array(4);
  private at = 4;
  private next_ = 0;
  constructor(
    private readonly n: number,
    private readonly seed: number,
  ) {}
  next(): number {
    if (this.at === 4) {
      philox4x32(this.n, this.next_++, 1, 0, this.seed, NOISE_KEY1, this.block);
      this.at = 0;
    }
    return this.block[this.at++];
  }
}

/** Uniform on (0, 1] from a word's high 24 bits (exact in float32). */
const unitOpen0 = (w: number) => ((w >>> 8) + 1) * TWO_M24;

/** Element n of the standard normal stream when its first word w fell outside the rectangles. */
function rejectedSample(w: number, n: number, seed: number): number {
  const stream = new ElementStream(n, seed);
  for (;;) {
    const h = w >> 8; // signed 24-bit
    const iz = w & 127; // ZIGGURAT_LAYERS - 1
    const x = Math.fround(h * wn[iz]);
    if (Math.abs(h) < kn[iz]) return x; // inside the layer's rectangle
    if (iz === 0) {
      // the tail beyond R
      for (;;) {
        const t = -Math.log(unitOpen0(stream.next())) / ZIGGURAT_R;
        const y = -Math.log(unitOpen0(stream.next()));
        if (y + y >= t * t) return Math.fround(h > 0 ? ZIGGURAT_R + t : -ZIGGURAT_R - t);
      }
    }
    // in the wedge between the rectangle and the density?
    const u = (stream.next() >>> 8) * TWO_M24;
    if (fn[iz] + u * (fn[iz - 1] - fn[iz]) < Math.exp(-0.5 * x * x)) return x;
    w = stream.next();
  }
}

/** A Float32Array of N(0, std²) samples: element n = std · z(seed, n) in float32. */
export function fastNormalArray(size: number, seed: number, std = 1): Float32Array {
  // The first words go into the output's own bytes, then each becomes its sample.
  const words = new Uint32Array(Math.ceil(size / 4) * 4);
  const s = seed >>> 0;
  for (let g = 0; g * 4 < size; g++) philox4x32(g, 0, 0, 0, s, NOISE_KEY1, words, g * 4);
  const out = new Float32Array(words.buffer, 0, size);
  const std32 = Math.fround(std);
  for (let n = 0; n < size; n++) {
    const w = words[n]; // read before out[n], its bytes, is written
    const h = w >> 8;
    const iz = w & 127; // ZIGGURAT_LAYERS - 1
    // ~97 %: inside the layer's rectangle, one float32 product
    const z = Math.abs(h) < kn[iz] ? Math.fround(h * wn[iz]) : rejectedSample(w, n, s);
    out[n] = z * std32;
  }
  return out;
}
