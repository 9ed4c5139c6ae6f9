/**
 * Fast N(0, σ²) samples for WM's mirror noise (~1M numbers per mirror step on
 * ResNet-20, a sixth of WM's overhead with Box-Muller's log/sqrt/cos/sin per pair):
 * the ziggurat method (Marsaglia & Tsang 2000) with 128 layers. A sample's layer is the
 * low 7 bits of the 32-bit draw that also gives its value (Doornik 2005 notes the
 * correlation: it touches the value's last 7 of 31 bits, below float32's precision).
 * Seeded by the same xoshiro128** as every other random tensor, so runs stay
 * reproducible.
 */
import { Rng } from './rng.js';

const LAYERS = 128;
const R = 3.442619855899; // start of the tail
const V = 9.91256303526217e-3; // area of each layer
const M = 2147483648; // 2^31

/** kn: acceptance bounds on |int32|; wn: int32 → x scales; fn: the density at layer edges. */
const kn = new Int32Array(LAYERS);
const wn = new Float64Array(LAYERS);
const fn = new Float64Array(LAYERS);
{
  let dn = R;
  let tn = dn;
  const q = V / Math.exp(-0.5 * dn * dn);
  kn[0] = Math.floor((dn / q) * M);
  kn[1] = 0;
  wn[0] = q / M;
  wn[LAYERS - 1] = dn / M;
  fn[0] = 1;
  fn[LAYERS - 1] = Math.exp(-0.5 * dn * dn);
  for (let i = LAYERS - 2; i >= 1; i--) {
    dn = Math.sqrt(-2 * Math.log(V / dn + Math.exp(-0.5 * dn * dn)));
    kn[i + 1] = Math.floor((dn / tn) * M);
    tn = dn;
    fn[i] = Math.exp(-0.5 * dn * dn);
    wn[i] = dn / M;
  }
}

/** Standard normal samples into `out`, drawing 32-bit integers from `rng` in blocks. */
function fillStandardNormal(rng: Rng, out: Float32Array): void {
  const bits = rng.fillU32(new Uint32Array(1 << 14));
  let at = 0;
  for (let i = 0; i < out.length; ) {
    // every attempt below reads at most 2 integers (the tail loop checks again)
    if (at + 2 > bits.length) {
      rng.fillU32(bits);
      at = 0;
    }
    const hz = bits[at++] | 0; // signed
    const iz = hz & (LAYERS - 1);
    const x = hz * wn[iz];
    if (Math.abs(hz) < kn[iz]) {
      out[i++] = x; // inside the layer's rectangle: ~99 %
    } else if (iz === 0) {
      // the tail beyond R
      let t: number;
      let y: number;
      do {
        if (at + 2 > bits.length) {
          rng.fillU32(bits);
          at = 0;
        }
        t = -Math.log((bits[at++] + 1) / 4294967297) / R;
        y = -Math.log((bits[at++] + 1) / 4294967297);
      } while (y + y < t * t);
      out[i++] = hz > 0 ? R + t : -R - t;
    } else if (fn[iz] + (bits[at++] / 4294967296) * (fn[iz - 1] - fn[iz]) < Math.exp(-0.5 * x * x)) {
      out[i++] = x; // in the wedge between the rectangle and the density
    }
  }
}

/** A Float32Array of N(mean, std²) samples drawn from `seed` (ziggurat). */
export function fastNormalArray(size: number, seed: number, std = 1, mean = 0): Float32Array {
  const out = new Float32Array(size);
  fillStandardNormal(new Rng(seed), out);
  if (std !== 1 || mean !== 0) for (let i = 0; i < size; i++) out[i] = mean + std * out[i];
  return out;
}
