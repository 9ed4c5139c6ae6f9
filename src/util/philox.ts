/**
 * Philox4x32-10 (Salmon et al. 2011, "Parallel random numbers: as easy as 1, 2, 3"),
 * a counter-based generator: four 32-bit words are a pure function of a 128-bit counter
 * and a 64-bit key, so any element of a random tensor can be drawn on its own, by any
 * thread, on any backend. The WGSL twin is in src/backend/webgpu/normal_noise.ts.
 */

/** High 32 bits of a·m (unsigned) for a constant m = mh·2^16 + ml: 16-bit partial products, all exact. */
function mulhi(a: number, mh: number, ml: number): number {
  const al = a & 0xffff;
  const ah = a >>> 16;
  const lh = al * mh;
  const hl = ah * ml;
  const mid = ((al * ml) >>> 16) + (lh & 0xffff) + (hl & 0xffff);
  return (ah * mh + (lh >>> 16) + (hl >>> 16) + (mid >>> 16)) | 0;
}

/** The four words for counter (c0, c1, c2, c3) and key (k0, k1), written to out[at..at+3]. */
export function philox4x32(
  c0: number,
  c1: number,
  c2: number,
  c3: number,
  k0: number,
  k1: number,
  out: Uint32Array,
  at = 0,
): Uint32Array {
  // int32 throughout (V8 keeps them unboxed); the stores make them unsigned
  c0 |= 0;
  c1 |= 0;
  c2 |= 0;
  c3 |= 0;
  k0 |= 0;
  k1 |= 0;
  for (let round = 0; round < 10; round++) {
    // The multipliers (as 16-bit halves for mulhi) and the key increments are literals:
    // bundlers turn module constants into mutable vars that V8 can't fold.
    const hi0 = mulhi(c0, 0xd251, 0x1f53);
    const lo0 = Math.imul(0xd2511f53, c0);
    const hi1 = mulhi(c2, 0xcd9e, 0x8d57);
    const lo1 = Math.imul(0xcd9e8d57, c2);
    c0 = hi1 ^ c1 ^ k0;
    c1 = lo1;
    c2 = hi0 ^ c3 ^ k1;
    c3 = lo0;
    k0 = (k0 + 0x9e3779b9) | 0;
    k1 = (k1 + 0xbb67ae85) | 0;
  }
  out[at] = c0;
  out[at + 1] = c1;
  out[at + 2] = c2;
  out[at + 3] = c3;
  return out;
}
